//! What a search box's text means: bare words, each of which must match (the last one also as
//! a prefix, for search-as-you-type), and `"quoted phrases"`, whose words must match in order.
//! Anything else — `:`, `*`, `~`, parentheses — is punctuation, never query syntax, so no input
//! can make a query fail. Words are analysed exactly as the index analyses text.

use tantivy::tokenizer::TextAnalyzer;

use super::schema::{self, LANGUAGES};

/// Longest query kept, in characters; longer input is cut (a search box, not a document).
const MAX_QUERY_CHARS: usize = 256;
/// Most words of a query used (phrase words included).
const MAX_QUERY_WORDS: usize = 12;

/// One bare word of a query.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    /// As indexed: lowercased, accents folded.
    pub term: String,
    /// As typed, for the language stemmers.
    pub raw: String,
    /// The last word of a query that does not end in a phrase: matched as a prefix too.
    pub prefix: bool,
}

impl Word {
    /// How many edits a typo may make in this word: none in words of one or two letters,
    /// where one edit reaches almost any other, then one, then two from 8 letters. (Typos are
    /// only tried when the words as typed match nothing, so a generous rule costs little.)
    pub fn max_edits(&self) -> u8 {
        match self.term.chars().count() {
            0..=2 => 0,
            3..=7 => 1,
            _ => 2,
        }
    }

    /// The word stemmed as `LANGUAGES[slot]` stems it, as its stemmed field holds it.
    pub fn stem(&self, slot: usize) -> Option<String> {
        let (_, language) = LANGUAGES.get(slot)?;
        let mut analyzer = schema::stem_analyzer(*language);
        schema::terms(&mut analyzer, &self.raw)
            .into_iter()
            .next()
            .map(|(t, _)| t)
    }
}

/// A query as understood.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub words: Vec<Word>,
    /// Quoted runs of two or more words; a quoted single word is a bare word without prefix.
    pub phrases: Vec<Vec<String>>,
}

impl Parsed {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.is_empty()
    }
}

/// Read a query. Text between double quotes is a phrase; an unclosed quote runs to the end.
pub fn parse(text: &str, analyzer: &mut TextAnalyzer) -> Parsed {
    let text: String = text.chars().take(MAX_QUERY_CHARS).collect();
    let segments: Vec<&str> = text.split('"').collect();
    let last_segment = segments.len() - 1;
    let mut parsed = Parsed::default();
    let mut budget = MAX_QUERY_WORDS;
    for (i, segment) in segments.iter().enumerate() {
        let quoted = i % 2 == 1;
        let mut terms = schema::terms(analyzer, segment);
        terms.truncate(budget);
        budget -= terms.len();
        if quoted && terms.len() > 1 {
            parsed
                .phrases
                .push(terms.into_iter().map(|(t, _)| t).collect());
            continue;
        }
        let n = terms.len();
        for (k, (term, range)) in terms.into_iter().enumerate() {
            parsed.words.push(Word {
                term,
                raw: segment.get(range).unwrap_or_default().to_owned(),
                prefix: !quoted && i == last_segment && k + 1 == n,
            });
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Parsed {
        parse(text, &mut schema::plain_analyzer())
    }

    #[test]
    fn words_phrases_and_prefixes() {
        let p = parsed("Café \"big buck\" Bunn");
        let terms: Vec<_> = p.words.iter().map(|w| w.term.as_str()).collect();
        assert_eq!(terms, ["cafe", "bunn"]);
        assert_eq!(p.words[0].raw, "Café");
        assert!(!p.words[0].prefix && p.words[1].prefix);
        assert_eq!(p.phrases, [vec!["big".to_owned(), "buck".to_owned()]]);

        let p = parsed("bunny \"rabbit\"");
        assert_eq!(p.words.len(), 2);
        assert!(p.phrases.is_empty());
        assert!(!p.words[1].prefix, "a quoted word is exact");

        let p = parsed("\"unclosed phrase here");
        assert_eq!(p.phrases[0].len(), 3);
        assert!(parsed("(:*~)").is_empty());
        assert_eq!(parsed(&"word ".repeat(100)).words.len(), MAX_QUERY_WORDS);
    }

    #[test]
    fn words_stem_by_language() {
        let p = parsed("running");
        let en = schema::language_slot("en").unwrap();
        assert_eq!(p.words[0].stem(en).as_deref(), Some("run"));
        assert_eq!(schema::language_slot("pt-BR"), schema::language_slot("pt"));
        assert_eq!(schema::language_slot("xx"), None);
    }
}
