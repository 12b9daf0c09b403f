//! Full-text search over the videos the instance knows, with tantivy. The index lives in
//! `<data dir>/search/` and is derived data: every change to a video's text enqueues an
//! `IndexVideos` job in the same redb transaction (`service::videos`), so the index catches up
//! after a crash; a missing, damaged or outdated index is rebuilt from redb in the background at
//! start (`vireo reindex` does the same offline) while searches answer "indexing".
//!
//! The index holds text only (title, description, tags, channel and account names) and each
//! video's id; which results a viewer may see, and the filters, come from the in-memory catalogue
//! (`service::catalog`), the same rules as the video lists. Words match exactly, by prefix (the
//! last word, for search-as-you-type) and within an edit distance that grows with the word's
//! length; BM25 ranks, with the title weighted above tags, names and description.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, TermQuery};
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TEXT, TantivyDocument, Value,
};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, Term, doc};

/// Bumped whenever the schema or what is indexed changes; an index of another version is rebuilt.
const SCHEMA_VERSION: &str = "1";
const VERSION_FILE: &str = "vireo-schema-version";
/// Memory the index writer may buffer before flushing a segment.
const WRITER_HEAP: usize = 32 * 1024 * 1024;
/// Longest query kept, in characters; longer input is cut (a search box, not a document).
const MAX_QUERY_CHARS: usize = 256;
/// Most words of a query used.
const MAX_QUERY_WORDS: usize = 12;
/// Exact matches enough for a query not to be retried with typos allowed: any. (Retrying
/// whenever few videos match made every precise two-word query pay for fuzzy expansion.)
const EXACT_ENOUGH: usize = 1;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index: {0}")]
    Io(#[from] std::io::Error),
    #[error("the search index is being built")]
    Indexing,
}

/// The text of one video, as indexed.
#[derive(Debug, Clone, Default)]
pub struct IndexedVideo {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    /// Channel and account names (handles and display names).
    pub owners: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    name: Field,
    description: Field,
    tags: Field,
    owners: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let fields = Fields {
        id: b.add_u64_field("id", INDEXED | STORED | FAST),
        name: b.add_text_field("name", TEXT),
        description: b.add_text_field("description", TEXT),
        tags: b.add_text_field("tags", TEXT),
        owners: b.add_text_field("owners", TEXT),
    };
    (b.build(), fields)
}

/// The open index.
pub struct Search {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    ready: AtomicBool,
}

impl std::fmt::Debug for Search {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Search").field("dir", &self.dir).finish()
    }
}

impl Search {
    /// Open the index in `dir`, creating it afresh when it is missing, damaged or of another
    /// schema version. Returns whether it must be rebuilt from the store.
    pub fn open(dir: &Path) -> Result<(Search, bool), SearchError> {
        let (schema, fields) = schema();
        let current = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let existing = (current.as_deref() == Some(SCHEMA_VERSION))
            .then(|| Index::open_in_dir(dir).ok())
            .flatten()
            .filter(|i| i.schema() == schema);
        let (index, fresh) = match existing {
            Some(index) => (index, false),
            None => {
                if dir.exists() {
                    std::fs::remove_dir_all(dir)?;
                }
                std::fs::create_dir_all(dir)?;
                // The version file is written once a rebuild completes, so an interrupted
                // rebuild is started again at the next open.
                let index = Index::create_in_dir(dir, schema)?;
                (index, true)
            }
        };
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let search = Search {
            dir: dir.to_owned(),
            index,
            reader,
            writer: Mutex::new(None),
            fields,
            ready: AtomicBool::new(!fresh),
        };
        Ok((search, fresh))
    }

    /// Whether searches can be answered (false while a rebuild runs).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    fn with_writer<T>(
        &self,
        f: impl FnOnce(&mut IndexWriter) -> Result<T, SearchError>,
    ) -> Result<T, SearchError> {
        let mut guard = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            *guard = Some(self.index.writer_with_num_threads(1, WRITER_HEAP)?);
        }
        match guard.as_mut() {
            Some(w) => f(w),
            None => Err(SearchError::Indexing),
        }
    }

    /// Replace the documents of these videos and remove those of `removed`, then commit, so the
    /// next search sees the change.
    pub fn apply(&self, upserts: &[IndexedVideo], removed: &[u64]) -> Result<(), SearchError> {
        let f = self.fields;
        self.with_writer(|w| {
            for id in removed.iter().chain(upserts.iter().map(|v| &v.id)) {
                w.delete_term(Term::from_field_u64(f.id, *id));
            }
            for v in upserts {
                w.add_document(doc!(
                    f.id => v.id,
                    f.name => v.name.as_str(),
                    f.description => v.description.as_str(),
                    f.tags => v.tags.join(" "),
                    f.owners => v.owners.join(" "),
                ))?;
            }
            w.commit()?;
            Ok(())
        })?;
        self.reader.reload()?;
        Ok(())
    }

    /// Drop everything and index `videos` (an iterator, so a large catalogue streams), calling
    /// `progress` with the count so far; then searches are answered again.
    pub fn rebuild(
        &self,
        videos: impl Iterator<Item = IndexedVideo>,
        mut progress: impl FnMut(usize),
    ) -> Result<usize, SearchError> {
        let f = self.fields;
        let count = self.with_writer(|w| {
            w.delete_all_documents()?;
            let mut n = 0;
            for v in videos {
                w.add_document(doc!(
                    f.id => v.id,
                    f.name => v.name.as_str(),
                    f.description => v.description.as_str(),
                    f.tags => v.tags.join(" "),
                    f.owners => v.owners.join(" "),
                ))?;
                n += 1;
                if n % 1000 == 0 {
                    progress(n);
                }
            }
            w.commit()?;
            Ok(n)
        })?;
        self.reader.reload()?;
        std::fs::write(self.dir.join(VERSION_FILE), SCHEMA_VERSION)?;
        self.ready.store(true, Ordering::Release);
        progress(count);
        Ok(count)
    }

    /// Ids of the videos matching `text`, best first, at most `limit`. Words are first looked
    /// up as typed (and the last as a prefix); only when that finds fewer than
    /// `EXACT_ENOUGH` videos are typos allowed too, whose matches come after the exact ones. A
    /// correctly spelled query thus costs no fuzzy expansion.
    pub fn search(&self, text: &str, limit: usize) -> Result<Vec<(u64, f32)>, SearchError> {
        if !self.is_ready() {
            return Err(SearchError::Indexing);
        }
        let limit = limit.max(1);
        let Some(exact) = self.query(text, false) else {
            return Ok(Vec::new());
        };
        let mut out = self.run(exact.as_ref(), limit)?;
        if out.len() >= EXACT_ENOUGH.min(limit) {
            return Ok(out);
        }
        let Some(fuzzy) = self.query(text, true) else {
            return Ok(out);
        };
        for hit in self.run(fuzzy.as_ref(), limit)? {
            if out.len() == limit {
                break;
            }
            if !out.iter().any(|(id, _)| *id == hit.0) {
                out.push(hit);
            }
        }
        Ok(out)
    }

    fn run(&self, query: &dyn Query, limit: usize) -> Result<Vec<(u64, f32)>, SearchError> {
        let searcher = self.reader.searcher();
        let top = searcher.search(query, &TopDocs::with_limit(limit).order_by_score())?;
        let mut out = Vec::with_capacity(top.len());
        for (score, address) in top {
            let doc: TantivyDocument = searcher.doc(address)?;
            if let Some(id) = doc.get_first(self.fields.id).and_then(|v| v.as_u64()) {
                out.push((id, score));
            }
        }
        Ok(out)
    }

    /// Every word must match some field: exactly (weighted most), as a prefix when it is the
    /// last word, or — with `typos` — within an edit distance of 1 (5+ letters) or 2 (9+).
    fn query(&self, text: &str, typos: bool) -> Option<Box<dyn Query>> {
        let words = words(text);
        let last = words.len().checked_sub(1)?;
        let f = self.fields;
        let weighted = [
            (f.name, 3.0),
            (f.tags, 2.0),
            (f.owners, 1.5),
            (f.description, 1.0),
        ];
        let per_word: Vec<(Occur, Box<dyn Query>)> = words
            .iter()
            .enumerate()
            .map(|(i, word)| {
                let distance = match word.chars().count() {
                    0..=4 => 0,
                    5..=8 => 1,
                    _ => 2,
                };
                let mut alternatives: Vec<(Occur, Box<dyn Query>)> = Vec::new();
                for (field, weight) in weighted {
                    let term = Term::from_field_text(field, word);
                    let exact = TermQuery::new(term.clone(), IndexRecordOption::WithFreqs);
                    alternatives.push((
                        Occur::Should,
                        Box::new(BoostQuery::new(Box::new(exact), weight * 2.0)),
                    ));
                    if i == last {
                        let prefix = FuzzyTermQuery::new_prefix(term.clone(), 0, true);
                        alternatives.push((
                            Occur::Should,
                            Box::new(BoostQuery::new(Box::new(prefix), weight)),
                        ));
                    }
                    if typos && distance > 0 {
                        let fuzzy = FuzzyTermQuery::new(term, distance, true);
                        alternatives.push((
                            Occur::Should,
                            Box::new(BoostQuery::new(Box::new(fuzzy), weight * 0.5)),
                        ));
                    }
                }
                let any: Box<dyn Query> = Box::new(BooleanQuery::new(alternatives));
                (Occur::Must, any)
            })
            .collect();
        Some(Box::new(BooleanQuery::new(per_word)))
    }
}

/// The words of a query as the default tokenizer indexes them: runs of letters and digits,
/// lowercased. Query syntax (`"`, `:`, `*`, `~`, parentheses) is just punctuation here.
fn words(text: &str) -> Vec<String> {
    let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(MAX_QUERY_WORDS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn video(id: u64, name: &str, description: &str, tags: &[&str]) -> IndexedVideo {
        IndexedVideo {
            id,
            name: name.into(),
            description: description.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            owners: vec!["root_channel".into()],
        }
    }

    fn index() -> (tempfile::TempDir, Search) {
        let dir = tempfile::tempdir().unwrap();
        let (search, fresh) = Search::open(&dir.path().join("search")).unwrap();
        assert!(fresh);
        assert!(matches!(search.search("x", 10), Err(SearchError::Indexing)));
        search
            .rebuild(
                [
                    video(1, "Big Buck Bunny", "a rabbit in a meadow", &["animation"]),
                    video(
                        2,
                        "Mountain biking",
                        "riding with a bunny on the bars",
                        &["bikes"],
                    ),
                    video(3, "Cooking pasta", "carbonara at home", &["food"]),
                ]
                .into_iter(),
                |_| {},
            )
            .unwrap();
        (dir, search)
    }

    fn ids(s: &Search, q: &str) -> Vec<u64> {
        s.search(q, 10)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn title_beats_description_and_typos_and_prefixes_match() {
        let (_dir, s) = index();
        assert_eq!(ids(&s, "bunny"), [1, 2], "the title match first");
        assert_eq!(ids(&s, "carbonnara"), [3], "one typo");
        assert_eq!(ids(&s, "mountian bikking"), [2], "typos in two words");
        assert_eq!(ids(&s, "past"), [3], "prefix of the last word");
        assert_eq!(ids(&s, "big rabbit"), [1], "every word must match");
        assert!(ids(&s, "zzzz").is_empty());
    }

    /// Property: any string at all is a query that answers (no error, no panic). Random strings
    /// from a fixed-seed generator mixing ASCII, query syntax, accents, CJK, emoji and controls.
    #[test]
    fn random_strings_always_answer() {
        let (_dir, s) = index();
        let alphabet: Vec<char> =
            "abcxyz019 \"':*~()[]{}^!+-&|\\/?<>éàüßЖ中文🐰\u{0}\u{7f}\u{200b}"
                .chars()
                .collect();
        let mut state: u64 = 0x5eed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as usize
        };
        for _ in 0..2000 {
            let len = next() % 40;
            let q: String = (0..len)
                .map(|_| alphabet[next() % alphabet.len()])
                .collect();
            assert!(s.search(&q, 10).is_ok(), "{q:?}");
        }
    }

    #[test]
    fn updates_and_removals_show_at_once_and_hostile_input_is_just_text() {
        let (dir, s) = index();
        s.apply(&[video(3, "Cooking risotto", "", &[])], &[1])
            .unwrap();
        assert!(ids(&s, "pasta").is_empty());
        assert_eq!(ids(&s, "risotto"), [3]);
        assert_eq!(ids(&s, "bunny"), [2]);
        for hostile in [
            "\"",
            ":",
            "(",
            "*",
            "~",
            "title:(x OR",
            "",
            "   ",
            &"é".repeat(10_000),
        ] {
            assert!(s.search(hostile, 10).is_ok(), "{hostile:?}");
        }
        // Reopened: the same index, no rebuild needed.
        drop(s);
        let (again, fresh) = Search::open(&dir.path().join("search")).unwrap();
        assert!(!fresh);
        assert_eq!(ids(&again, "risotto"), [3]);
        // An index of another schema version is rebuilt.
        drop(again);
        std::fs::write(dir.path().join("search").join(VERSION_FILE), "0").unwrap();
        let (_, fresh) = Search::open(&dir.path().join("search")).unwrap();
        assert!(fresh);
    }
}
