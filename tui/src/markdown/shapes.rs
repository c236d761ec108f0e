//! List shapes, found before rendering: a list's number column and its
//! tightness depend on items that come after its start.

use pulldown_cmark::{Event, Tag};

/// What the renderer needs to know about a list before its first item:
/// how many items it has (to align the numbers) and whether it is tight.
#[derive(Debug, Clone, Copy)]
pub(super) struct ListShape {
    pub(super) items: u64,
    pub(super) tight: bool,
}

/// Finds the shape of every list, indexed by its `Start(List)` event, in one
/// pass (a scan per list would be quadratic in the nesting depth).
pub(super) fn list_shapes(events: &[Event<'_>]) -> Vec<Option<ListShape>> {
    /// The kind of an open tag, as far as list shapes care.
    enum Open {
        List(usize),
        Item,
        Other,
    }
    let mut shapes: Vec<Option<ListShape>> = vec![None; events.len()];
    let mut open: Vec<Open> = Vec::new();
    for (index, event) in events.iter().enumerate() {
        match event {
            Event::Start(tag) => {
                match tag {
                    Tag::Item => {
                        if let Some(Open::List(list)) = open.last()
                            && let Some(Some(shape)) = shapes.get_mut(*list)
                        {
                            shape.items = shape.items.saturating_add(1);
                        }
                    }
                    Tag::Paragraph => {
                        // A paragraph directly inside an item is what makes a
                        // list loose; tight items hold their text bare.
                        if let [.., Open::List(list), Open::Item] = open.as_slice()
                            && let Some(Some(shape)) = shapes.get_mut(*list)
                        {
                            shape.tight = false;
                        }
                    }
                    _ => {}
                }
                open.push(match tag {
                    Tag::List(_) => {
                        if let Some(slot) = shapes.get_mut(index) {
                            *slot = Some(ListShape {
                                items: 0,
                                tight: true,
                            });
                        }
                        Open::List(index)
                    }
                    Tag::Item => Open::Item,
                    _ => Open::Other,
                });
            }
            Event::End(_) => {
                open.pop();
            }
            _ => {}
        }
    }
    shapes
}

#[cfg(test)]
mod tests {
    use super::*;
    use pulldown_cmark::Parser;

    #[test]
    fn list_shapes_count_items_and_detect_loose_lists() {
        let shapes = |markdown: &str| -> Vec<(u64, bool)> {
            let events: Vec<Event<'_>> = Parser::new(markdown).collect();
            list_shapes(&events)
                .into_iter()
                .flatten()
                .map(|shape| (shape.items, shape.tight))
                .collect()
        };
        assert_eq!(shapes("- a\n- b\n- c"), [(3, true)]);
        assert_eq!(shapes("- a\n\n- b"), [(2, false)]);
        assert_eq!(
            shapes("- a\n\n  b\n- c\n  - d\n  - e"),
            [(2, false), (2, true)]
        );
    }
}
