//! The `conversations` table. Every function takes the owner's id: a
//! conversation of another user is indistinguishable from a missing one.

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;
use uuid::Uuid;

use super::schema::conversations;
use super::{DbConnection, DbUuid};

/// The title of a conversation that has not been named yet.
pub const DEFAULT_TITLE: &str = "New Conversation";

/// A stored conversation; `models` is a JSON array.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable, Insertable)]
#[diesel(table_name = conversations)]
pub struct Conversation {
    pub id: DbUuid,
    pub user_id: DbUuid,
    pub title: String,
    pub models: String,
    pub lead_model: String,
    pub message_count: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Stores a new conversation.
pub fn insert(conn: &mut DbConnection, c: &Conversation) -> QueryResult<()> {
    diesel::insert_into(conversations::table)
        .values(c)
        .execute(conn)
        .map(drop)
}

/// The user's conversations, newest activity first; with `query`, only
/// those whose title or messages contain it, best match first (see
/// `Search`).
pub fn list(
    conn: &mut DbConnection,
    user_id: Uuid,
    query: Option<&str>,
) -> QueryResult<Vec<Conversation>> {
    match query.filter(|q| !q.is_empty()) {
        Some(text) => Search { text }.run(conn, user_id),
        None => conversations::table
            .filter(conversations::user_id.eq(DbUuid(user_id)))
            .order((conversations::updated_at.desc(), conversations::id.desc()))
            .select(Conversation::as_select())
            .load(conn),
    }
}

/// The index is asked for the query's first characters only; longer text
/// is then checked whole on what it found. Long keys only cost more
/// lookups, and a key this long is already rare.
const INDEX_KEY_CHARS: usize = 48;
/// At most this many words of the text rank the matches (PostgreSQL).
const MAX_RANKED_WORDS: usize = 8;
/// Trigram indexes cannot find anything shorter.
const MIN_INDEXED_CHARS: usize = 3;
/// How much more a match in the title counts than one in a message (SQLite;
/// bm25 saturates, so a factor this size puts any title match first).
const TITLE_WEIGHT_SQLITE: &str = "4.0";

/// A `?q=` search: the conversations whose title or a message contains
/// `text` as a case-insensitive substring (API.md's "contain the text": a
/// fragment inside a word is found, white space is part of the text, and
/// `%`, `_` and every other character are literal). Text of three
/// characters or more is looked up in the trigram index (`search_docs`,
/// kept in sync by triggers; see the `search` migration) and ranked: bm25
/// on SQLite, `ts_rank` on PostgreSQL, a match in the title above any match
/// in a message, ties newest activity first. Shorter text scans the user's
/// conversations instead, titles matching first.
#[derive(Debug)]
struct Search<'a> {
    /// Trimmed by the route, never empty.
    text: &'a str,
}

impl Search<'_> {
    fn run(&self, conn: &mut DbConnection, user_id: Uuid) -> QueryResult<Vec<Conversation>> {
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
                    query = match value {
                        Param::Text(text) => query.bind::<Text, _>(text),
                        Param::Id(id) => query.bind::<Text, _>(id),
                    };
                }
                query.load(c)
            }
            DbConnection::Pg(c) => {
                let mut query = diesel::sql_query(q.sql).into_boxed::<Pg>();
                for value in q.binds {
                    query = match value {
                        Param::Text(text) => query.bind::<Text, _>(text),
                        Param::Id(id) => query.bind::<Text, _>(id),
                    };
                }
                query.load(c)
            }
        }
    }

    fn build(&self, q: &mut SqlBuilder, user_id: Uuid) {
        let user = q.bind(Param::Id(DbUuid(user_id)));
        let key: String = self.text.chars().take(INDEX_KEY_CHARS).collect();
        if !q.backend.can_index(&key) {
            self.build_scan(q, &user);
            return;
        }
        // When the index saw only the start of the text: the whole of it,
        // to check what the index found.
        let whole = (key.len() < self.text.len()).then(|| q.param(self.text.to_lowercase()));
        // The caller's conversations containing the key, with the
        // relevance of their best document.
        match q.backend {
            Backend::Sqlite => {
                // bm25() only works in a query on the FTS table alone,
                // hence the materialized step before the join.
                let phrase = q.param(fts5_phrase(&key));
                q.push(&format!(
                    "WITH m AS MATERIALIZED (SELECT rowid AS doc, bm25(search_index) AS rank \
                     FROM search_index WHERE search_index MATCH {phrase}), \
                     h AS (SELECT d.conversation_id AS cid, \
                     MAX(-m.rank * CASE WHEN d.message_id = '' \
                     THEN {TITLE_WEIGHT_SQLITE} ELSE 1.0 END) AS score \
                     FROM m JOIN search_docs d ON d.doc = m.doc \
                     WHERE d.user_id = {user} GROUP BY d.conversation_id)"
                ));
            }
            Backend::Pg => {
                let pattern = q.param(format!("%{}%", escape_like(&key)));
                // ts_rank stays below 1 (normalization 1 divides by the
                // length's log), so a title match comes first.
                let rank = match ts_prefix_query(self.text) {
                    Some(tsquery) => {
                        let tsquery = q.param(tsquery);
                        format!("ts_rank(tsv, to_tsquery('simple', {tsquery}), 1)")
                    }
                    None => "0".to_owned(),
                };
                // strpos: the long text is no pattern for the index to
                // take apart, only a check of what the key found.
                let check = whole
                    .as_ref()
                    .map(|whole| format!(" AND strpos(body, lower({whole})) > 0"))
                    .unwrap_or_default();
                q.push(&format!(
                    "WITH h AS (SELECT conversation_id AS cid, \
                     MAX({rank} + CASE WHEN message_id = '' THEN 1 ELSE 0 END) AS score \
                     FROM search_docs WHERE user_id = {user} \
                     AND body LIKE lower({pattern}) ESCAPE '\\'{check} \
                     GROUP BY conversation_id)"
                ));
            }
        }
        // The matches drive the join, one lookup by id each. Given the
        // choice, SQLite walks all the user's conversations instead (their
        // index has user_id first) and probes the matches: slow when the
        // matches are few; CROSS JOIN fixes its order. PostgreSQL hashes
        // every conversation of the table instead, a third of a common
        // word's time; the LATERAL subquery (OFFSET 0 keeps it from being
        // flattened back into a join) makes it look each match up. user_id
        // is checked again: belt and braces.
        match q.backend {
            Backend::Sqlite => q.push(&format!(
                " SELECT {COLUMNS} FROM h CROSS JOIN conversations c ON c.id = h.cid \
                 WHERE c.user_id = {user}"
            )),
            Backend::Pg => q.push(&format!(
                " SELECT {COLUMNS} FROM h CROSS JOIN LATERAL (SELECT * FROM conversations c \
                 WHERE c.id = h.cid AND c.user_id = {user} OFFSET 0) c"
            )),
        }
        if let Some(whole) = whole.filter(|_| q.backend == Backend::Sqlite) {
            // The index is contentless: the text is checked where it lives.
            // instr, not LIKE: SQLite refuses LIKE patterns over 50,000
            // bytes. Both fold ASCII case only.
            q.push(&format!(
                " AND (instr(lower(c.title), {whole}) > 0 OR EXISTS (SELECT 1 FROM messages m \
                 WHERE m.conversation_id = c.id AND instr(lower(m.content), {whole}) > 0))"
            ));
        }
        q.push(" ORDER BY h.score DESC, c.updated_at DESC, c.id DESC");
    }

    /// Text the index cannot look up: every conversation of the user is
    /// checked; those matching in the title come first.
    fn build_scan(&self, q: &mut SqlBuilder, user: &str) {
        q.push(&format!(
            "SELECT {COLUMNS} FROM conversations c WHERE c.user_id = {user}"
        ));
        match q.backend {
            Backend::Sqlite => {
                let pattern = q.param(like_pattern(self.text));
                q.push(&format!(
                    " AND (c.title LIKE {pattern} ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m \
                     WHERE m.conversation_id = c.id \
                     AND m.content LIKE {pattern} ESCAPE '\\'))"
                ));
            }
            // search_docs holds the title and the messages, lower-cased.
            // One pass over the user's documents (a semi-join): twice as
            // fast as a probe per conversation.
            Backend::Pg => {
                let pattern = q.param(format!("%{}%", escape_like(self.text)));
                q.push(&format!(
                    " AND c.id IN (SELECT s.conversation_id FROM search_docs s \
                     WHERE s.user_id = {user} \
                     AND s.body LIKE lower({pattern}) ESCAPE '\\')"
                ));
            }
        }
        let title = q.title_like(self.text);
        q.push(&format!(
            " ORDER BY CASE WHEN {title} THEN 1 ELSE 0 END DESC, c.updated_at DESC, c.id DESC"
        ));
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
    binds: Vec<Param>,
}

/// A parameter of a [`SqlBuilder`]; both kinds are bound as TEXT.
enum Param {
    Text(String),
    /// Written as the id columns hold it.
    Id(DbUuid),
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

    /// Binds the text `value`; returns its placeholder.
    fn param(&mut self, value: String) -> String {
        self.bind(Param::Text(value))
    }

    /// Binds `value`; returns its placeholder.
    fn bind(&mut self, value: Param) -> String {
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
        if !run.is_empty() && !lexemes.contains(&run) && lexemes.len() < MAX_RANKED_WORDS {
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

/// The user's conversation `id`; `None` when missing or another user's.
pub fn find(conn: &mut DbConnection, user_id: Uuid, id: Uuid) -> QueryResult<Option<Conversation>> {
    conversations::table
        .filter(conversations::id.eq(DbUuid(id)))
        .filter(conversations::user_id.eq(DbUuid(user_id)))
        .select(Conversation::as_select())
        .get_result(conn)
        .optional()
}

/// Sets the title and marks the activity; `None` when not the user's.
pub fn rename(
    conn: &mut DbConnection,
    user_id: Uuid,
    id: Uuid,
    title: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<Conversation>> {
    let n = diesel::update(
        conversations::table
            .filter(conversations::id.eq(DbUuid(id)))
            .filter(conversations::user_id.eq(DbUuid(user_id))),
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
pub fn set_generated_title(conn: &mut DbConnection, id: Uuid, title: &str) -> QueryResult<bool> {
    diesel::update(
        conversations::table
            .filter(conversations::id.eq(DbUuid(id)))
            .filter(conversations::title.eq(DEFAULT_TITLE)),
    )
    .set(conversations::title.eq(title))
    .execute(conn)
    .map(|n| n > 0)
}

/// Deletes the conversation and its messages; returns whether it existed.
pub fn delete(conn: &mut DbConnection, user_id: Uuid, id: Uuid) -> QueryResult<bool> {
    diesel::delete(
        conversations::table
            .filter(conversations::id.eq(DbUuid(id)))
            .filter(conversations::user_id.eq(DbUuid(user_id))),
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
    fn the_index_takes_three_characters_or_more() {
        for short in ["go", "é", "日本"] {
            assert!(!Backend::Sqlite.can_index(short), "{short}");
            assert!(!Backend::Pg.can_index(short), "{short}");
        }
        assert!(Backend::Sqlite.can_index("x-y"));
        assert!(Backend::Sqlite.can_index("日本語"));
        // pg_trgm needs three letters or digits in a row.
        assert!(!Backend::Pg.can_index("x-y a.b !!!"));
        assert!(Backend::Pg.can_index("a.b tokio"));
        assert!(Backend::Pg.can_index("日本語"));
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
