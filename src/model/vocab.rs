//! The fixed vocabularies PeerTube clients know by id: categories and licences (ids and English
//! labels as PeerTube ≤ 7 serves them), and the language list in `languages`.

pub use super::languages::LANGUAGES;

pub const CATEGORIES: &[(u32, &str)] = &[
    (1, "Music"),
    (2, "Films"),
    (3, "Vehicles"),
    (4, "Art"),
    (5, "Sports"),
    (6, "Travels"),
    (7, "Gaming"),
    (8, "People"),
    (9, "Comedy"),
    (10, "Entertainment"),
    (11, "News & Politics"),
    (12, "How To"),
    (13, "Education"),
    (14, "Activism"),
    (15, "Science & Technology"),
    (16, "Animals"),
    (17, "Kids"),
    (18, "Food"),
];

pub const LICENCES: &[(u32, &str)] = &[
    (1, "Attribution"),
    (2, "Attribution - Share Alike"),
    (3, "Attribution - No Derivatives"),
    (4, "Attribution - Non Commercial"),
    (5, "Attribution - Non Commercial - Share Alike"),
    (6, "Attribution - Non Commercial - No Derivatives"),
    (7, "Public Domain Dedication"),
];

pub fn category_label(id: u32) -> Option<&'static str> {
    CATEGORIES.iter().find(|(i, _)| *i == id).map(|(_, l)| *l)
}

pub fn licence_label(id: u32) -> Option<&'static str> {
    LICENCES.iter().find(|(i, _)| *i == id).map(|(_, l)| *l)
}

pub fn language_label(code: &str) -> Option<&'static str> {
    LANGUAGES.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}
