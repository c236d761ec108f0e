//! The `conversations` table. Every function takes the owner's id: a
//! conversation of another user is indistinguishable from a missing one.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::DbConnection;
use super::schema::conversations;

/// The title of a conversation that has not been named yet.
pub const DEFAULT_TITLE: &str = "New Conversation";

/// A stored conversation; `models` is a JSON array.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: String,
    pub user_id: String,
    pub title: String,
    pub models: String,
    pub lead_model: String,
    pub message_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConnection, c: &Conversation) -> QueryResult<()> {
    diesel::insert_into(conversations::table)
        .values(c)
        .execute(conn)
        .map(drop)
}

/// The user's conversations, newest activity first; with `query`, only
/// those that contain every word of it, best match first (see `Search`).
pub fn list(
    conn: &mut DbConnection,
    user_id: &str,
    query: Option<&str>,
) -> QueryResult<Vec<Conversation>> {
    match query.map(Search::parse).filter(|s| !s.terms.is_empty()) {
        Some(search) => search.run(conn, user_id),
        None => conversations::table
            .filter(conversations::user_id.eq(user_id))
            .order((conversations::updated_at.desc(), conversations::id.desc()))
            .select(Conversation::as_select())
            .load(conn),
    }
}

/// At most this many words of a query are used: a search this long is a
/// pasted passage, which its first words already pin down, and every word
/// costs a filter.
const MAX_TERMS: usize = 32;
/// A word is cut to this many characters. SQLite refuses LIKE patterns over
/// 50,000 bytes; no one types a word this long.
const MAX_TERM_CHARS: usize = 1000;
/// Words looked up in the index; the others filter what these found. The
/// longest are taken: they are usually the rarest.
const MAX_INDEXED_TERMS: usize = 4;
/// The index is asked for a word's first characters only; the whole word
/// is then checked on what it found. Long keys only cost more lookups.
const INDEX_KEY_CHARS: usize = 48;
/// Trigram indexes cannot find anything shorter.
const MIN_INDEXED_CHARS: usize = 3;
/// How much more a match in the title counts than one in a message (SQLite;
/// bm25 saturates, so a factor this size puts any title match first).
const TITLE_WEIGHT_SQLITE: &str = "4.0";

/// A `?q=` search: the conversations whose title or messages contain every
/// whitespace-separated word of the query, as a case-insensitive substring
/// (so a fragment inside a word is found, and `%`, `_` and every other
/// character are literal). Words of three characters or more are looked up
/// in the trigram index (`search_docs`, kept in sync by triggers; see the
/// `search` migration) and ranked: bm25 on SQLite, `ts_rank` on PostgreSQL,
/// a match in the title above any match in a message, ties newest activity
/// first. A query with only shorter words scans the user's conversations
/// instead, titles matching first.
#[derive(Debug)]
struct Search {
    terms: Vec<String>,
}

impl Search {
    fn parse(query: &str) -> Self {
        let mut terms: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for word in query.split_whitespace() {
            let word: String = word.chars().take(MAX_TERM_CHARS).collect();
            if seen.insert(word.to_lowercase()) {
                terms.push(word);
            }
            if terms.len() == MAX_TERMS {
                break;
            }
        }
        Self { terms }
    }

    fn run(&self, conn: &mut DbConnection, user_id: &str) -> QueryResult<Vec<Conversation>> {
        let backend = match conn {
            DbConnection::Sqlite(_) => Backend::Sqlite,
            DbConnection::Pg(_) => Backend::Pg,
        };
        let mut q = SqlBuilder::new(backend);
        self.build(&mut q, user_id);
        match conn {
            DbConnection::Sqlite(c) => {
                let mut query = diesel::sql_query(q.sql).into_boxed::<Sqlite>();
                for value in q.binds {
                    query = query.bind::<Text, _>(value);
                }
                query.load(c)
            }
            DbConnection::Pg(c) => {
                let mut query = diesel::sql_query(q.sql).into_boxed::<Pg>();
                for value in q.binds {
                    query = query.bind::<Text, _>(value);
                }
                query.load(c)
            }
        }
    }

    /// The words the index looks up, longest first, and those only checked.
    fn split(&self, backend: Backend) -> (Vec<&str>, Vec<&str>) {
        let mut indexed: Vec<&str> = self
            .terms
            .iter()
            .map(String::as_str)
            .filter(|t| backend.can_index(t))
            .collect();
        indexed.sort_by_key(|t| std::cmp::Reverse(t.chars().count()));
        indexed.truncate(MAX_INDEXED_TERMS);
        let checked = self
            .terms
            .iter()
            .map(String::as_str)
            .filter(|t| {
                // A word the index saw only the start of is checked whole.
                !indexed.contains(t) || t.chars().count() > INDEX_KEY_CHARS
            })
            .collect();
        (indexed, checked)
    }

    fn build(&self, q: &mut SqlBuilder, user_id: &str) {
        let user = q.param(user_id.to_owned());
        let (indexed, checked) = self.split(q.backend);
        if indexed.is_empty() {
            self.build_scan(q, &user, &checked);
            return;
        }
        // One CTE per indexed word: the caller's conversations containing
        // it, with the relevance of their best document for it.
        q.push("WITH ");
        for (i, term) in indexed.iter().enumerate() {
            let key: String = term.chars().take(INDEX_KEY_CHARS).collect();
            if i > 0 {
                q.push(", ");
            }
            match q.backend {
                Backend::Sqlite => {
                    // bm25() only works in a query on the FTS table alone,
                    // hence the materialized step before the join.
                    let phrase = q.param(fts5_phrase(&key));
                    q.push(&format!(
                        "m{i} AS MATERIALIZED (SELECT rowid AS doc, bm25(search_index) AS rank \
                         FROM search_index WHERE search_index MATCH {phrase}), \
                         h{i} AS (SELECT d.conversation_id AS cid, \
                         MAX(-m{i}.rank * CASE WHEN d.message_id = '' \
                         THEN {TITLE_WEIGHT_SQLITE} ELSE 1.0 END) AS score \
                         FROM m{i} JOIN search_docs d ON d.doc = m{i}.doc \
                         WHERE d.user_id = {user} GROUP BY d.conversation_id)"
                    ));
                }
                Backend::Pg => {
                    let pattern = q.param(format!("%{}%", escape_like(&key)));
                    // ts_rank stays below 1 (normalization 1 divides by the
                    // length's log), so a title match comes first.
                    let rank = match ts_prefix_query(term) {
                        Some(tsquery) => {
                            let tsquery = q.param(tsquery);
                            format!("ts_rank(tsv, to_tsquery('simple', {tsquery}), 1)")
                        }
                        None => "0".to_owned(),
                    };
                    q.push(&format!(
                        "h{i} AS (SELECT conversation_id AS cid, \
                         MAX({rank} + CASE WHEN message_id = '' THEN 1 ELSE 0 END) AS score \
                         FROM search_docs WHERE user_id = {user} \
                         AND body LIKE lower({pattern}) ESCAPE '\\' GROUP BY conversation_id)"
                    ));
                }
            }
        }
        q.push(&format!(" SELECT {COLUMNS} FROM h0"));
        for i in 1..indexed.len() {
            q.push(&format!(" JOIN h{i} ON h{i}.cid = h0.cid"));
        }
        // The matches drive the join. Given the choice, SQLite walks all the
        // user's conversations instead (their index has user_id first) and
        // probes the matches: slow when the matches are few. CROSS JOIN
        // fixes its order. user_id is checked again: belt and braces.
        let join = match q.backend {
            Backend::Sqlite => "CROSS JOIN",
            Backend::Pg => "JOIN",
        };
        q.push(&format!(
            " {join} conversations c ON c.id = h0.cid WHERE c.user_id = {user}"
        ));
        for term in &checked {
            self.push_contains(q, term, &user, false);
        }
        let relevance: Vec<String> = (0..indexed.len()).map(|i| format!("h{i}.score")).collect();
        q.push(&format!(
            " ORDER BY {} DESC, c.updated_at DESC, c.id DESC",
            relevance.join(" + ")
        ));
    }

    /// No word the index can look up: every conversation of the user is
    /// checked; those matching in the title come first.
    fn build_scan(&self, q: &mut SqlBuilder, user: &str, checked: &[&str]) {
        q.push(&format!(
            "SELECT {COLUMNS} FROM conversations c WHERE c.user_id = {user}"
        ));
        let mut in_title = Vec::new();
        for term in checked {
            self.push_contains(q, term, user, true);
            let title = q.title_like(term);
            in_title.push(format!("CASE WHEN {title} THEN 1 ELSE 0 END"));
        }
        q.push(&format!(
            " ORDER BY {} DESC, c.updated_at DESC, c.id DESC",
            in_title.join(" + ")
        ));
    }

    /// `AND` conversation `c` contains `term` in its title or a message.
    /// `scan`: every conversation of `user` is tested, not a few candidates.
    fn push_contains(&self, q: &mut SqlBuilder, term: &str, user: &str, scan: bool) {
        match q.backend {
            Backend::Sqlite => {
                let title = q.title_like(term);
                let pattern = q.param(like_pattern(term));
                q.push(&format!(
                    " AND ({title} OR EXISTS (SELECT 1 FROM messages m \
                     WHERE m.conversation_id = c.id \
                     AND m.content LIKE {pattern} ESCAPE '\\'))"
                ));
            }
            // search_docs holds the title and the messages, lower-cased.
            Backend::Pg => {
                let pattern = q.param(format!("%{}%", escape_like(term)));
                if scan {
                    // One pass over the user's documents (a semi-join):
                    // twice as fast as a probe per conversation.
                    q.push(&format!(
                        " AND c.id IN (SELECT s.conversation_id FROM search_docs s \
                         WHERE s.user_id = {user} \
                         AND s.body LIKE lower({pattern}) ESCAPE '\\')"
                    ));
                } else {
                    q.push(&format!(
                        " AND EXISTS (SELECT 1 FROM search_docs s \
                         WHERE s.conversation_id = c.id \
                         AND s.body LIKE lower({pattern}) ESCAPE '\\')"
                    ));
                }
            }
        }
    }
}

/// The columns of [`Conversation`], from `conversations c`.
const COLUMNS: &str = "c.id, c.user_id, c.title, c.models, c.lead_model, \
                       c.message_count, c.created_at, c.updated_at";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Pg,
}

impl Backend {
    /// Whether the trigram index can find `term`. SQLite's trigrams are of
    /// any three characters; pg_trgm's only of letters and digits (a word
    /// without three in a row would scan the whole index).
    fn can_index(self, term: &str) -> bool {
        match self {
            Self::Sqlite => term.chars().count() >= MIN_INDEXED_CHARS,
            Self::Pg => term
                .split(|c: char| !c.is_alphanumeric())
                .any(|run| run.chars().count() >= MIN_INDEXED_CHARS),
        }
    }
}

/// Raw SQL with numbered parameters (`?1` on SQLite, `$1` on PostgreSQL),
/// all text. User input only ever travels as a parameter.
struct SqlBuilder {
    backend: Backend,
    sql: String,
    binds: Vec<String>,
}

impl SqlBuilder {
    fn new(backend: Backend) -> Self {
        Self {
            backend,
            sql: String::new(),
            binds: Vec::new(),
        }
    }

    fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Binds `value`; returns its placeholder.
    fn param(&mut self, value: String) -> String {
        self.binds.push(value);
        let n = self.binds.len();
        match self.backend {
            Backend::Sqlite => format!("?{n}"),
            Backend::Pg => format!("${n}"),
        }
    }

    /// The condition "the title of `c` contains `term`".
    fn title_like(&mut self, term: &str) -> String {
        match self.backend {
            // SQLite's LIKE ignores ASCII case itself, and its lower() folds
            // nothing else: lower() on the column would only cost a copy.
            Backend::Sqlite => {
                let p = self.param(like_pattern(term));
                format!("c.title LIKE {p} ESCAPE '\\'")
            }
            Backend::Pg => {
                let p = self.param(format!("%{}%", escape_like(term)));
                format!("lower(c.title) LIKE lower({p}) ESCAPE '\\'")
            }
        }
    }
}

/// `text` as one FTS5 string: everything in it literal (operators, column
/// filters, `*`, `^`, parentheses), a `"` written twice.
fn fts5_phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// A PostgreSQL tsquery that ranks documents by the words of `term` and the
/// words they begin (`'post':* | 'gres':*`), built only from letters and
/// digits so that no input is ever read as tsquery syntax; `None` if `term`
/// has none.
fn ts_prefix_query(term: &str) -> Option<String> {
    let mut lexemes: Vec<String> = Vec::new();
    for run in term.split(|c: char| !c.is_alphanumeric()) {
        let run: String = run
            .chars()
            .take(INDEX_KEY_CHARS)
            .collect::<String>()
            .to_lowercase();
        if !run.is_empty() && !lexemes.contains(&run) && lexemes.len() < MAX_INDEXED_TERMS {
            lexemes.push(run);
        }
    }
    (!lexemes.is_empty()).then(|| {
        lexemes
            .iter()
            .map(|l| format!("'{l}':*"))
            .collect::<Vec<_>>()
            .join(" | ")
    })
}

/// `text` with the LIKE wildcards (and the escape character) escaped.
fn escape_like(text: &str) -> String {
    let mut p = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p
}

/// `%text%` in lower case, with the LIKE wildcards in `text` escaped.
fn like_pattern(text: &str) -> String {
    format!("%{}%", escape_like(&text.to_lowercase()))
}

pub fn find(conn: &mut DbConnection, user_id: &str, id: &str) -> QueryResult<Option<Conversation>> {
    conversations::table
        .filter(conversations::id.eq(id))
        .filter(conversations::user_id.eq(user_id))
        .select(Conversation::as_select())
        .get_result(conn)
        .optional()
}

/// Sets the title and marks the activity; `None` when not the user's.
pub fn rename(
    conn: &mut DbConnection,
    user_id: &str,
    id: &str,
    title: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Conversation>> {
    let n = diesel::update(
        conversations::table
            .filter(conversations::id.eq(id))
            .filter(conversations::user_id.eq(user_id)),
    )
    .set((
        conversations::title.eq(title),
        conversations::updated_at.eq(now),
    ))
    .execute(conn)?;
    if n == 0 {
        return Ok(None);
    }
    find(conn, user_id, id)
}

/// Sets the title made from the first question, unless the user has
/// renamed the conversation meanwhile. Not counted as activity.
pub fn set_generated_title(conn: &mut DbConnection, id: &str, title: &str) -> QueryResult<bool> {
    diesel::update(
        conversations::table
            .filter(conversations::id.eq(id))
            .filter(conversations::title.eq(DEFAULT_TITLE)),
    )
    .set(conversations::title.eq(title))
    .execute(conn)
    .map(|n| n > 0)
}

/// Deletes the conversation and its messages; returns whether it existed.
pub fn delete(conn: &mut DbConnection, user_id: &str, id: &str) -> QueryResult<bool> {
    diesel::delete(
        conversations::table
            .filter(conversations::id.eq(id))
            .filter(conversations::user_id.eq(user_id)),
    )
    .execute(conn)
    .map(|n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("50%_A\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn queries_become_distinct_bounded_words() {
        assert_eq!(
            Search::parse("  Rust\ttokio rust RUST\n").terms,
            ["Rust", "tokio"]
        );
        assert!(Search::parse(" \t ").terms.is_empty());
        let many = (0..100)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(Search::parse(&many).terms.len(), MAX_TERMS);
        let long = "é".repeat(5000);
        assert_eq!(
            Search::parse(&long).terms[0].chars().count(),
            MAX_TERM_CHARS
        );
    }

    #[test]
    fn the_index_looks_up_the_longest_words_it_can() {
        let search = Search::parse("a go tokio rust runtime x-y !!! schedulers");
        let (indexed, checked) = search.split(Backend::Sqlite);
        assert_eq!(indexed, ["schedulers", "runtime", "tokio", "rust"]);
        assert_eq!(checked, ["a", "go", "x-y", "!!!"]);
        // pg_trgm needs three letters or digits in a row.
        let (indexed, checked) = search.split(Backend::Pg);
        assert_eq!(indexed, ["schedulers", "runtime", "tokio", "rust"]);
        assert_eq!(checked, ["a", "go", "x-y", "!!!"]);
        let punctuation = Search::parse("!!! x-y");
        let (indexed, checked) = punctuation.split(Backend::Pg);
        assert!(indexed.is_empty());
        assert_eq!(checked, ["!!!", "x-y"]);
        // A word longer than the index key is also checked whole.
        let long = "k".repeat(INDEX_KEY_CHARS + 1);
        let search = Search::parse(&long);
        let (indexed, checked) = search.split(Backend::Sqlite);
        assert_eq!((indexed.len(), checked.len()), (1, 1));
    }

    #[test]
    fn user_text_never_becomes_query_syntax() {
        assert_eq!(
            fts5_phrase("say \"hi\" NEAR(a b)*"),
            "\"say \"\"hi\"\" NEAR(a b)*\""
        );
        assert_eq!(
            ts_prefix_query("PostgreSQL.conf").as_deref(),
            Some("'postgresql':* | 'conf':*")
        );
        assert_eq!(
            ts_prefix_query("x');DROP TABLE t;--").as_deref(),
            Some("'x':* | 'drop':* | 'table':* | 't':*")
        );
        assert_eq!(ts_prefix_query("%%'\"!:*&|"), None);
    }
}
