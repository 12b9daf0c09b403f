//! Full-text search over the videos the instance knows, with tantivy. The index lives in
//! `<data dir>/search/` and is derived data: every change to a video's text enqueues an
//! `IndexVideos` job in the same redb transaction (`service::videos`), so the index catches up
//! after a crash; a missing, damaged or outdated index is rebuilt from redb in the background at
//! start (`vireo reindex` does the same offline) while searches answer "indexing".
//!
//! The index holds text only (title, description, tags, channel and account names, and the
//! text stemmed in the video's language) and each video's id. Who may see a result, the
//! filters, and the popularity and recency a score is blended with come from the caller's
//! `Judge` (the in-memory catalogue), asked for every matching document inside the collector:
//! totals are exact, and views or privacy changes need no reindexing. Words match exactly, by
//! prefix (the last word), by stem, and — only when nothing matches as typed — within an edit
//! distance that grows with the word's length, each expansion ranked by BM25 like any term.

mod highlight;
mod query;
mod schema;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Count, FilterCollector, TopDocs};
use tantivy::columnar::Column;
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

pub use highlight::{Highlight, Highlighter};
pub use query::Parsed;
use schema::Fields;

/// Bumped whenever the schema or what is indexed changes; an index of another version is rebuilt.
const SCHEMA_VERSION: &str = "2";
const VERSION_FILE: &str = "vireo-schema-version";
/// Memory the index writer may buffer before flushing a segment.
const WRITER_HEAP: usize = 32 * 1024 * 1024;
/// Most index terms one mistyped word may expand to, per field: the nearest, and among those
/// equally near the most frequent, which are the likeliest meant.
const MAX_EXPANSIONS: usize = 48;

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
    /// PeerTube language code, when known: the text is also indexed stemmed in it.
    pub language: Option<String>,
}

/// What the caller knows that the index does not: whether a video may be shown to this
/// searcher under this query's filters, and how much its popularity and age weigh.
pub trait Judge: Send + Sync {
    fn visible(&self, id: u64) -> bool;
    /// Multiplies the text score; 1.0 for a neutral video.
    fn boost(&self, id: u64) -> f32;
}

/// The visible matches of a query.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    /// All visible matches.
    pub total: usize,
    /// The best of them, best first, with their blended scores.
    pub hits: Vec<(u64, f32)>,
    /// Whether they came from the typo-tolerant pass (nothing matched as typed).
    pub typos: bool,
    /// The query as understood, for highlighting.
    pub parsed: Parsed,
}

/// The open index.
pub struct Search {
    dir: PathBuf,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
    fields: Fields,
    ready: AtomicBool,
    /// Bit i set when some video has been indexed in `schema::LANGUAGES[i]`: queries only look
    /// words up in the stemmed fields of languages present.
    languages: AtomicU32,
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
        let (schema, fields) = schema::schema();
        let current = std::fs::read_to_string(dir.join(VERSION_FILE)).ok();
        let existing = (current.as_deref() == Some(SCHEMA_VERSION))
            .then(|| Index::open_in_dir(dir).ok())
            .flatten()
            .filter(|i| i.schema() == schema && readable(i));
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
        schema::register_analyzers(&index);
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
            languages: AtomicU32::new(0),
        };
        search
            .languages
            .store(search.languages_present()?, Ordering::Release);
        Ok((search, fresh))
    }

    /// The languages whose stemmed field holds any term in some segment.
    fn languages_present(&self) -> Result<u32, SearchError> {
        let searcher = self.reader.searcher();
        let mut mask = 0;
        for (slot, field) in self.fields.stems.iter().enumerate() {
            for segment in searcher.segment_readers() {
                if segment.inverted_index(*field)?.terms().num_terms() > 0 {
                    mask |= 1 << slot;
                    break;
                }
            }
        }
        Ok(mask)
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

    /// The document of a video: its plain fields, and its text stemmed in its language.
    fn document(&self, v: &IndexedVideo) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_u64(f.id, v.id);
        doc.add_text(f.name, &v.name);
        doc.add_text(f.description, &v.description);
        doc.add_text(f.tags, v.tags.join(" "));
        doc.add_text(f.owners, v.owners.join(" "));
        if let Some(slot) = v.language.as_deref().and_then(schema::language_slot) {
            let stemmed = f.stems[slot];
            doc.add_text(stemmed, &v.name);
            doc.add_text(stemmed, v.tags.join(" "));
            doc.add_text(stemmed, &v.description);
            self.languages.fetch_or(1 << slot, Ordering::AcqRel);
        }
        doc
    }

    /// Replace the documents of these videos and remove those of `removed`, then commit, so the
    /// next search sees the change.
    pub fn apply(&self, upserts: &[IndexedVideo], removed: &[u64]) -> Result<(), SearchError> {
        let id = self.fields.id;
        self.with_writer(|w| {
            for gone in removed.iter().chain(upserts.iter().map(|v| &v.id)) {
                w.delete_term(Term::from_field_u64(id, *gone));
            }
            for v in upserts {
                w.add_document(self.document(v))?;
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
        let count = self.with_writer(|w| {
            // The writer's merge policy would start merging the segments the commit below
            // makes while the explicit merge takes them too: one merge at a time, and the
            // usual policy back whatever happens.
            w.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
            let loaded = (|| {
                w.delete_all_documents()?;
                let mut n = 0;
                for v in videos {
                    w.add_document(self.document(&v))?;
                    n += 1;
                    if n % 1000 == 0 {
                        progress(n);
                    }
                }
                w.commit()?;
                // One segment answers faster than the dozen a bulk load leaves behind.
                let segments = self.index.searchable_segment_ids()?;
                if segments.len() > 1 {
                    w.merge(&segments).wait()?;
                }
                Ok(n)
            })();
            w.set_merge_policy(Box::new(tantivy::indexer::LogMergePolicy::default()));
            loaded
        })?;
        self.reader.reload()?;
        std::fs::write(self.dir.join(VERSION_FILE), SCHEMA_VERSION)?;
        self.ready.store(true, Ordering::Release);
        progress(count);
        Ok(count)
    }

    /// Understand a query's text.
    pub fn parse(&self, text: &str) -> Parsed {
        query::parse(text, &mut schema::plain_analyzer())
    }

    /// The visible videos matching `text`, the best `limit` of them first. Words are first
    /// looked up as typed (and by stem, and the last as a prefix); only when that finds nothing
    /// are typos allowed, so a correctly spelled query costs no fuzzy expansion.
    pub fn search(
        &self,
        text: &str,
        judge: Arc<dyn Judge>,
        limit: usize,
    ) -> Result<Hits, SearchError> {
        if !self.is_ready() {
            return Err(SearchError::Indexing);
        }
        let parsed = self.parse(text);
        if parsed.is_empty() {
            return Ok(Hits {
                parsed,
                ..Hits::default()
            });
        }
        let searcher = self.reader.searcher();
        let exact = self.build(&searcher, &parsed, false)?;
        let (total, hits) = self.run(&searcher, exact.as_ref(), &judge, limit)?;
        if total > 0 || !parsed.words.iter().any(|w| w.max_edits() > 0) {
            return Ok(Hits {
                total,
                hits,
                typos: false,
                parsed,
            });
        }
        let fuzzy = self.build(&searcher, &parsed, true)?;
        let (total, hits) = self.run(&searcher, fuzzy.as_ref(), &judge, limit)?;
        Ok(Hits {
            total,
            hits,
            typos: true,
            parsed,
        })
    }

    /// Count the visible matches and take the best `limit`, each score multiplied by the
    /// judge's boost.
    fn run(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        judge: &Arc<dyn Judge>,
        limit: usize,
    ) -> Result<(usize, Vec<(u64, f32)>), SearchError> {
        let visible = {
            let judge = judge.clone();
            move |id: u64| judge.visible(id)
        };
        let boosted = {
            let judge = judge.clone();
            TopDocs::with_limit(limit.max(1)).tweak_score(
                move |segment: &tantivy::SegmentReader| {
                    let ids = id_column(segment);
                    let judge = judge.clone();
                    move |doc: tantivy::DocId, score: tantivy::Score| {
                        ids.as_ref()
                            .and_then(|c| c.first(doc))
                            .map_or(0.0, |id| score * judge.boost(id))
                    }
                },
            )
        };
        let collector = FilterCollector::new("id".to_owned(), visible, (Count, boosted));
        let (total, top) = searcher.search(query, &collector)?;
        let columns: Vec<Option<Column<u64>>> =
            searcher.segment_readers().iter().map(id_column).collect();
        let id_of = |a: DocAddress| {
            columns
                .get(a.segment_ord as usize)
                .and_then(Option::as_ref)
                .and_then(|c| c.first(a.doc_id))
        };
        let hits = top
            .into_iter()
            .filter_map(|(score, address)| id_of(address).map(|id| (id, score)))
            .collect();
        Ok((total, hits))
    }

    /// The query: every bare word and every phrase must match. A word matches exactly in a
    /// field (weighted most), by stem in the stemmed field of a language present, as the start
    /// of a longer word when it is the last word, or — with `typos` — as any index term within
    /// its edit distance. Prefixes and typos expand to the index terms they reach, each scored
    /// by BM25 like a typed word (a constant score would let a short description outrank a
    /// title), weighted down by how far it is from what was typed.
    fn build(
        &self,
        searcher: &Searcher,
        parsed: &Parsed,
        typos: bool,
    ) -> Result<Box<dyn Query>, SearchError> {
        let weighted = self.fields.weighted();
        let languages = self.languages.load(Ordering::Acquire);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for word in &parsed.words {
            let mut any: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            for (field, weight) in weighted {
                let term = Term::from_field_text(field, &word.term);
                any.push(boosted(term_query(term.clone()), weight * 2.0));
                if word.prefix {
                    let longer = self.expand(searcher, &term, Reach::Prefix)?;
                    if longer.len() == MAX_EXPANSIONS {
                        // Too many words start so: the rarer ones still match, unranked.
                        let all = FuzzyTermQuery::new_prefix(term.clone(), 0, true);
                        any.push(boosted(Box::new(all), weight));
                    }
                    for (word, _) in longer {
                        any.push(boosted(term_query(word), weight));
                    }
                }
                if typos && word.max_edits() > 0 {
                    for (near, edits) in
                        self.expand(searcher, &term, Reach::Edits(word.max_edits()))?
                    {
                        let factor = if edits == 1 { 0.5 } else { 0.25 };
                        any.push(boosted(term_query(near), weight * factor));
                    }
                }
            }
            for (slot, field) in self.fields.stems.iter().enumerate() {
                if languages & (1 << slot) == 0 {
                    continue;
                }
                if let Some(stem) = word.stem(slot) {
                    any.push(boosted(
                        term_query(Term::from_field_text(*field, &stem)),
                        1.5,
                    ));
                }
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        for phrase in &parsed.phrases {
            let any: Vec<(Occur, Box<dyn Query>)> = weighted
                .iter()
                .map(|(field, weight)| {
                    let terms = phrase
                        .iter()
                        .map(|t| Term::from_field_text(*field, t))
                        .collect();
                    boosted(Box::new(PhraseQuery::new(terms)), weight * 2.0)
                })
                .collect();
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        }
        Ok(Box::new(BooleanQuery::new(clauses)))
    }

    /// The index terms of `term`'s field that `reach` allows (the term itself excluded):
    /// fewest edits first, then most frequent, at most `MAX_EXPANSIONS`.
    fn expand(
        &self,
        searcher: &Searcher,
        term: &Term,
        reach: Reach,
    ) -> Result<Vec<(Term, u8)>, SearchError> {
        let field = term.field();
        let passes: Vec<(u8, FuzzyTermQuery)> = match reach {
            Reach::Prefix => vec![(0, FuzzyTermQuery::new_prefix(term.clone(), 0, true))],
            Reach::Edits(max) => (1..=max)
                .map(|edits| (edits, FuzzyTermQuery::new(term.clone(), edits, true)))
                .collect(),
        };
        // term bytes → (edits, documents holding it, over all segments)
        let mut found: HashMap<Vec<u8>, (u8, u32)> = HashMap::new();
        for (edits, automaton) in passes {
            for segment in searcher.segment_readers() {
                let inverted = segment.inverted_index(field)?;
                let mut stream = inverted
                    .terms()
                    .search(automaton.automaton()?)
                    .into_stream()?;
                while stream.advance() {
                    let key = stream.key();
                    if key == term.serialized_value_bytes() {
                        continue;
                    }
                    let docs = stream.value().doc_freq;
                    let entry = found.entry(key.to_vec()).or_insert((edits, 0));
                    if entry.0 == edits {
                        entry.1 += docs;
                    }
                }
            }
            if found.len() >= MAX_EXPANSIONS {
                break;
            }
        }
        let mut near: Vec<(Vec<u8>, (u8, u32))> = found.into_iter().collect();
        near.sort_by(|a, b| {
            (a.1.0.cmp(&b.1.0))
                .then_with(|| b.1.1.cmp(&a.1.1))
                .then_with(|| a.0.cmp(&b.0))
        });
        near.truncate(MAX_EXPANSIONS);
        // Text fields hold UTF-8 terms; anything else could not have come from the analyzer.
        Ok(near
            .into_iter()
            .filter_map(|(bytes, (edits, _))| {
                let text = String::from_utf8(bytes).ok()?;
                Some((Term::from_field_text(field, &text), edits))
            })
            .collect())
    }
}

/// Which index terms a query word reaches beyond itself.
#[derive(Debug, Clone, Copy)]
enum Reach {
    /// Words it begins (the word being typed).
    Prefix,
    /// Words within this many edits (a typo).
    Edits(u8),
}

/// Whether every segment of an index opens and its terms and postings can be read: a damaged
/// file must mean a rebuild at start, not an error on every search. tantivy may panic on a
/// garbled file rather than return an error, so the check runs under `catch_unwind`.
fn readable(index: &Index) -> bool {
    let check = || -> Result<(), SearchError> {
        schema::register_analyzers(index);
        let reader: IndexReader = index.reader_builder().try_into()?;
        let searcher = reader.searcher();
        searcher.search(&tantivy::query::AllQuery, &Count)?;
        for segment in searcher.segment_readers() {
            for (field, _) in index.schema().fields() {
                let inverted = segment.inverted_index(field)?;
                let mut terms = inverted.terms().stream()?;
                while terms.advance() {
                    let _ = inverted
                        .read_postings_from_terminfo(terms.value(), IndexRecordOption::Basic)?;
                }
            }
        }
        Ok(())
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(check)) {
        Ok(Ok(())) => true,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "search index damaged; it will be rebuilt");
            false
        }
        Err(_) => {
            tracing::warn!("search index damaged (reading it panicked); it will be rebuilt");
            false
        }
    }
}

fn term_query(term: Term) -> Box<dyn Query> {
    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
}

fn boosted(query: Box<dyn Query>, weight: f32) -> (Occur, Box<dyn Query>) {
    (Occur::Should, Box::new(BoostQuery::new(query, weight)))
}

/// The `id` fast field of a segment (always present: the schema declares it).
fn id_column(segment: &tantivy::SegmentReader) -> Option<Column<u64>> {
    segment.fast_fields().u64("id").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sees everything, boosts nothing, except the videos it is told to hide.
    struct Everyone(Vec<u64>);

    impl Judge for Everyone {
        fn visible(&self, id: u64) -> bool {
            !self.0.contains(&id)
        }
        fn boost(&self, _id: u64) -> f32 {
            1.0
        }
    }

    fn video(id: u64, name: &str, description: &str, tags: &[&str]) -> IndexedVideo {
        IndexedVideo {
            id,
            name: name.into(),
            description: description.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            owners: vec!["root_channel".into()],
            language: None,
        }
    }

    fn index() -> (tempfile::TempDir, Search) {
        let dir = tempfile::tempdir().unwrap();
        let (search, fresh) = Search::open(&dir.path().join("search")).unwrap();
        assert!(fresh);
        assert!(matches!(
            search.search("x", Arc::new(Everyone(vec![])), 10),
            Err(SearchError::Indexing)
        ));
        let mut english = video(4, "Running shoes", "Our runners test them", &[]);
        english.language = Some("en".into());
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
                    video(
                        3,
                        "Cooking pasta",
                        "carbonara at home, the big way",
                        &["food"],
                    ),
                    english,
                    video(5, "Café crème", "", &[]),
                ]
                .into_iter(),
                |_| {},
            )
            .unwrap();
        (dir, search)
    }

    fn ids(s: &Search, q: &str) -> Vec<u64> {
        ids_hiding(s, q, &[])
    }

    fn ids_hiding(s: &Search, q: &str, hidden: &[u64]) -> Vec<u64> {
        s.search(q, Arc::new(Everyone(hidden.to_vec())), 10)
            .unwrap()
            .hits
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    }

    #[test]
    fn title_beats_description_and_typos_prefixes_phrases_and_stems_match() {
        let (_dir, s) = index();
        assert_eq!(ids(&s, "bunny"), [1, 2], "the title match first");
        assert_eq!(ids(&s, "carbonnara"), [3], "one typo");
        assert_eq!(ids(&s, "mountian bikking"), [2], "typos in two words");
        assert_eq!(ids(&s, "past"), [3], "prefix of the last word");
        assert_eq!(ids(&s, "big rabbit"), [1], "every word must match");
        assert!(ids(&s, "zzzz").is_empty());
        assert_eq!(ids(&s, "\"big buck\""), [1], "a phrase");
        assert!(ids(&s, "\"buck big\"").is_empty(), "words out of order");
        assert_eq!(ids(&s, "runner"), [4], "stemmed in the video's language");
        assert_eq!(ids(&s, "cafe creme"), [5], "accents folded");
        assert_eq!(ids_hiding(&s, "bunny", &[1]), [2], "the judge hides");
        let hits = s.search("bunny", Arc::new(Everyone(vec![2])), 10).unwrap();
        assert_eq!(hits.total, 1, "totals count visible matches only");
        assert!(!hits.typos);
        assert!(
            s.search("bunyy", Arc::new(Everyone(vec![])), 10)
                .unwrap()
                .typos
        );
    }

    /// A typo ties no more: each term it expands to is scored like a typed word, so the video
    /// with the intended word in its title wins over one that has it in its description.
    #[test]
    fn typo_expansions_are_ranked_by_bm25() {
        let (_dir, s) = index();
        s.apply(
            &[
                video(10, "Something else", "about bunnies and bunny hops", &[]),
                video(11, "Bunny", "", &[]),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(ids(&s, "bunyy")[0], 11);
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
            assert!(
                s.search(&q, Arc::new(Everyone(vec![])), 10).is_ok(),
                "{q:?}"
            );
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
            assert!(
                s.search(hostile, Arc::new(Everyone(vec![])), 10).is_ok(),
                "{hostile:?}"
            );
        }
        // Reopened: the same index and its languages, no rebuild needed.
        drop(s);
        let (again, fresh) = Search::open(&dir.path().join("search")).unwrap();
        assert!(!fresh);
        assert_eq!(ids(&again, "risotto"), [3]);
        assert_eq!(ids(&again, "runner"), [4]);
        // A damaged index is rebuilt.
        drop(again);
        let search_dir = dir.path().join("search");
        for entry in std::fs::read_dir(&search_dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "term" || e == "idx") {
                std::fs::write(&path, b"garbage").unwrap();
            }
        }
        let (again, fresh) = Search::open(&search_dir).unwrap();
        assert!(fresh, "garbage segment files mean a rebuild");
        // An index of another schema version is rebuilt.
        drop(again);
        std::fs::write(dir.path().join("search").join(VERSION_FILE), "0").unwrap();
        let (_, fresh) = Search::open(&dir.path().join("search")).unwrap();
        assert!(fresh);
    }
}
