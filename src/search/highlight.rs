//! Highlighting: the words of a title or description that made a video match, wrapped in
//! `<mark>`, the rest HTML-escaped, and descriptions cut to a window around the first match.
//!
//! Written here rather than with tantivy's `SnippetGenerator` because that one only knows the
//! terms a query names, so prefix, typo and stemmed matches would go unmarked, and it needs the
//! text stored in the index, which would double its size; redb already holds the text.

use std::collections::HashSet;

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder};

use super::query::Parsed;
use super::schema::{self, LANGUAGES};

/// Words shown around the first match in a description snippet, before and after it.
const WORDS_BEFORE: usize = 8;
const WORDS_AFTER: usize = 24;

/// A language's stem analyzer and the query's words as it stems them.
type Stems = Option<(tantivy::tokenizer::TextAnalyzer, Vec<String>)>;

/// Marks the words of one query in any text.
pub struct Highlighter {
    exact: HashSet<String>,
    prefix: Option<String>,
    typos: Vec<DFA>,
    parsed: Parsed,
}

/// A video's highlighted fields; `None` where nothing matched.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Highlight {
    pub name: Option<String>,
    pub description: Option<String>,
}

impl Highlighter {
    /// For a parsed query; `typos` when the results came from the typo-tolerant pass.
    pub fn new(parsed: &Parsed, typos: bool) -> Highlighter {
        let mut exact: HashSet<String> = parsed.words.iter().map(|w| w.term.clone()).collect();
        exact.extend(parsed.phrases.iter().flatten().cloned());
        let prefix = parsed
            .words
            .iter()
            .find(|w| w.prefix)
            .map(|w| w.term.clone());
        let typos = if typos {
            parsed
                .words
                .iter()
                .filter(|w| w.max_edits() > 0)
                .map(|w| LevenshteinAutomatonBuilder::new(w.max_edits(), true).build_dfa(&w.term))
                .collect()
        } else {
            Vec::new()
        };
        Highlighter {
            exact,
            prefix,
            typos,
            parsed: parsed.clone(),
        }
    }

    /// Highlight a video's title and description; `language` picks the stemmer.
    pub fn video(&self, name: &str, description: &str, language: Option<&str>) -> Highlight {
        let mut stems = self.stems(language);
        Highlight {
            name: self.mark(name, &mut stems, usize::MAX),
            description: self.mark(description, &mut stems, WORDS_AFTER),
        }
    }

    /// The query's words stemmed in `language`, with that language's analyzer.
    fn stems(
        &self,
        language: Option<&str>,
    ) -> Option<(tantivy::tokenizer::TextAnalyzer, Vec<String>)> {
        let slot = schema::language_slot(language?)?;
        let stems = self
            .parsed
            .words
            .iter()
            .filter_map(|w| w.stem(slot))
            .collect();
        Some((schema::stem_analyzer(LANGUAGES[slot].1), stems))
    }

    fn matches(&self, term: &str, original: &str, stems: &mut Stems) -> bool {
        if self.exact.contains(term) || self.prefix.as_deref().is_some_and(|p| term.starts_with(p))
        {
            return true;
        }
        if self
            .typos
            .iter()
            .any(|dfa| matches!(dfa.eval(term), Distance::Exact(_)))
        {
            return true;
        }
        match stems {
            Some((analyzer, stems)) if !stems.is_empty() => schema::terms(analyzer, original)
                .first()
                .is_some_and(|(s, _)| stems.contains(s)),
            _ => false,
        }
    }

    /// `text` escaped, matching words marked; `None` when no word matches. With a finite
    /// `after`, only a window of words around the first match is kept, with ellipses.
    fn mark(&self, text: &str, stems: &mut Stems, after: usize) -> Option<String> {
        let mut analyzer = schema::plain_analyzer();
        let tokens = schema::terms(&mut analyzer, text);
        let hits: Vec<bool> = tokens
            .iter()
            .map(|(term, range)| self.matches(term, text.get(range.clone()).unwrap_or(""), stems))
            .collect();
        let first = hits.iter().position(|h| *h)?;
        let (from, to) = if after == usize::MAX {
            (0, text.len())
        } else {
            let start = first.saturating_sub(WORDS_BEFORE);
            let end = (first + after).min(tokens.len() - 1);
            let from = if start == 0 { 0 } else { tokens[start].1.start };
            let to = if end + 1 == tokens.len() {
                text.len()
            } else {
                tokens[end].1.end
            };
            (from, to)
        };
        let mut out = String::new();
        if from > 0 {
            out.push('…');
        }
        let mut at = from;
        for ((_, range), hit) in tokens.iter().zip(&hits) {
            if !hit || range.start < from || range.end > to {
                continue;
            }
            escape_into(&mut out, &text[at..range.start]);
            out.push_str("<mark>");
            escape_into(&mut out, &text[range.clone()]);
            out.push_str("</mark>");
            at = range.end;
        }
        escape_into(&mut out, &text[at..to]);
        if to < text.len() {
            out.push('…');
        }
        Some(out)
    }
}

/// Minimal HTML escaping for text and attribute values.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    fn highlighter(q: &str, typos: bool) -> Highlighter {
        Highlighter::new(&parse(q, &mut schema::plain_analyzer()), typos)
    }

    #[test]
    fn marks_exact_prefix_typo_and_stemmed_words_and_escapes() {
        let h = highlighter("cafe bunn", false);
        let got = h.video("<b>Café</b> & Bunny", "", None);
        assert_eq!(
            got.name.as_deref(),
            Some("&lt;b&gt;<mark>Café</mark>&lt;/b&gt; &amp; <mark>Bunny</mark>")
        );
        assert_eq!(got.description, None);

        let h = highlighter("carbonnara xyz", true);
        assert_eq!(
            h.video("Carbonara", "", None).name.as_deref(),
            Some("<mark>Carbonara</mark>")
        );
        let h = highlighter("carbonnara xyz", false);
        assert_eq!(h.video("Carbonara", "", None).name, None);

        let h = highlighter("runs", false);
        assert_eq!(
            h.video("Running fast", "", Some("en")).name.as_deref(),
            Some("<mark>Running</mark> fast")
        );
        assert_eq!(h.video("Running fast", "", Some("fr")).name, None);
    }

    #[test]
    fn descriptions_are_cut_around_the_first_match() {
        let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
        let text = words.join(" ");
        let h = highlighter("w50 zz", false);
        let got = h.video("", &text, None).description.unwrap();
        assert!(got.starts_with("…w42 "), "{got}");
        assert!(got.contains("<mark>w50</mark>"));
        assert!(got.ends_with("w74…"), "{got}");
    }
}
