//! The index's schema and text analysis: which fields exist, how their text is cut into terms
//! (letters and digits, lowercased, accents folded, so "Café" and "cafe" meet), and one stemmed
//! field per language tantivy has a Snowball stemmer for. A video whose language is known also
//! has its text indexed, stemmed, in that language's field, so "running" finds "runs" in English
//! videos without stemming anyone else's words.

use tantivy::Index;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    TextAnalyzer,
};

/// The analyzer of every plain text field, and of queries.
pub const PLAIN: &str = "vireo";
/// Terms longer than this (bytes) are dropped: no real word is, and they bloat the dictionary.
const LONGEST_TERM: usize = 40;

/// PeerTube's language codes (ISO 639-1) that tantivy can stem.
pub const LANGUAGES: [(&str, Language); 18] = [
    ("ar", Language::Arabic),
    ("da", Language::Danish),
    ("nl", Language::Dutch),
    ("en", Language::English),
    ("fi", Language::Finnish),
    ("fr", Language::French),
    ("de", Language::German),
    ("el", Language::Greek),
    ("hu", Language::Hungarian),
    ("it", Language::Italian),
    ("no", Language::Norwegian),
    ("pt", Language::Portuguese),
    ("ro", Language::Romanian),
    ("ru", Language::Russian),
    ("es", Language::Spanish),
    ("sv", Language::Swedish),
    ("ta", Language::Tamil),
    ("tr", Language::Turkish),
];

/// Position of a language code in `LANGUAGES` (its bit in the "languages present" mask).
pub fn language_slot(code: &str) -> Option<usize> {
    // PeerTube codes may carry a region ("pt-BR"); the stemmer is the language's.
    let base = code.split(['-', '_']).next().unwrap_or(code);
    LANGUAGES
        .iter()
        .position(|(c, _)| c.eq_ignore_ascii_case(base))
}

#[derive(Debug, Clone)]
pub struct Fields {
    pub id: Field,
    pub name: Field,
    pub description: Field,
    pub tags: Field,
    pub owners: Field,
    /// One per entry of `LANGUAGES`, same order.
    pub stems: Vec<Field>,
}

impl Fields {
    /// The text fields a word is looked up in, with their weights: a word in the title counts
    /// most, then tags, channel and account names, then the description.
    pub fn weighted(&self) -> [(Field, f32); 4] {
        [
            (self.name, 3.0),
            (self.tags, 2.0),
            (self.owners, 1.5),
            (self.description, 1.0),
        ]
    }
}

fn stem_tokenizer_name(code: &str) -> String {
    format!("vireo_{code}")
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    // Positions are kept for phrase queries.
    let plain = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(PLAIN)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let id = b.add_u64_field("id", INDEXED | STORED | FAST);
    let name = b.add_text_field("name", plain.clone());
    let description = b.add_text_field("description", plain.clone());
    let tags = b.add_text_field("tags", plain.clone());
    let owners = b.add_text_field("owners", plain);
    let stems = LANGUAGES
        .iter()
        .map(|(code, _)| {
            let options = TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(&stem_tokenizer_name(code))
                    .set_index_option(IndexRecordOption::WithFreqs),
            );
            b.add_text_field(&format!("stem_{code}"), options)
        })
        .collect();
    let fields = Fields {
        id,
        name,
        description,
        tags,
        owners,
        stems,
    };
    (b.build(), fields)
}

/// The analyzer of plain fields and of query words.
pub fn plain_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TERM))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

/// The analyzer of one language's stemmed field: stems before folding accents, as the Snowball
/// stemmers expect the language's own spelling.
pub fn stem_analyzer(language: Language) -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(LONGEST_TERM))
        .filter(LowerCaser)
        .filter(Stemmer::new(language))
        .filter(AsciiFoldingFilter)
        .build()
}

/// Make the analyzers known to an opened or created index (they are not stored in it).
pub fn register_analyzers(index: &Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(PLAIN, plain_analyzer());
    for (code, language) in LANGUAGES {
        tokenizers.register(&stem_tokenizer_name(code), stem_analyzer(language));
    }
}

/// The terms `text` is indexed as by `analyzer`, with their byte ranges in `text`.
pub fn terms(analyzer: &mut TextAnalyzer, text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while stream.advance() {
        let t = stream.token();
        out.push((t.text.clone(), t.offset_from..t.offset_to));
    }
    out
}
