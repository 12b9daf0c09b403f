//! Search benchmark (a bench binary): a synthetic catalogue of 100 000 videos (seeded, generated
//! here: pseudo-word titles, tags and descriptions), indexed by Vireo's tantivy index
//! (`vireo::search`) and by SQLite FTS5 (rusqlite, bundled; bench-only) in the same run. Reports
//! build time, size on disk, p50/p99 latency per query class (one word, two words, one typo,
//! prefix) and, for typo queries, how often the intended video is in the top 3.
//! In-process: no HTTP. Run: `cargo bench --bench search` (or `bash benches/run.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::time::Instant;

use vireo::search::{IndexedVideo, Search};

const VIDEOS: usize = 100_000;
const QUERIES_PER_CLASS: usize = 300;

/// A small deterministic generator (no dependency; the bench must repeat exactly).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next() % items.len()]
    }
}

/// 20 000 pronounceable pseudo-words of 4 to 10 letters.
fn vocabulary(rng: &mut Rng) -> Vec<String> {
    const ONSETS: [&str; 16] = [
        "b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "st", "tr",
    ];
    const VOWELS: [&str; 6] = ["a", "e", "i", "o", "u", "ou"];
    let mut words = std::collections::BTreeSet::new();
    while words.len() < 20_000 {
        let syllables = 2 + rng.next() % 3;
        let w: String = (0..syllables)
            .map(|_| format!("{}{}", rng.pick(&ONSETS), rng.pick(&VOWELS)))
            .collect();
        if (4..=10).contains(&w.len()) {
            words.insert(w);
        }
    }
    words.into_iter().collect()
}

fn catalogue(rng: &mut Rng, words: &[String]) -> Vec<IndexedVideo> {
    // Titles draw from the whole vocabulary; descriptions favour the 2 000 commonest words, as
    // real text does.
    let common = &words[..2000];
    (0..VIDEOS as u64)
        .map(|id| {
            let title_len = 3 + rng.next() % 5;
            let desc_len = 20 + rng.next() % 40;
            IndexedVideo {
                id,
                name: (0..title_len)
                    .map(|_| rng.pick(words).as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                description: (0..desc_len)
                    .map(|_| rng.pick(common).as_str())
                    .collect::<Vec<_>>()
                    .join(" "),
                tags: (0..2).map(|_| rng.pick(common).clone()).collect(),
                owners: vec![format!("channel{}", id % 500)],
            }
        })
        .collect()
}

/// One edit: a letter dropped, doubled or swapped with its neighbour.
fn typo(rng: &mut Rng, word: &str) -> String {
    let mut c: Vec<char> = word.chars().collect();
    let i = 1 + rng.next() % (c.len() - 2);
    match rng.next() % 3 {
        0 => {
            c.remove(i);
        }
        1 => c.insert(i, c[i]),
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}

struct Query {
    text: String,
    fts: String,
    /// The video meant, for recall.
    target: Option<u64>,
}

fn queries(
    rng: &mut Rng,
    videos: &[IndexedVideo],
    words: &[String],
) -> Vec<(&'static str, Vec<Query>)> {
    let title_words =
        |v: &IndexedVideo| -> Vec<String> { v.name.split(' ').map(str::to_owned).collect() };
    let mut classes = Vec::new();
    let one: Vec<Query> = (0..QUERIES_PER_CLASS)
        .map(|_| {
            let w = rng.pick(words).clone();
            Query {
                fts: w.clone(),
                text: w,
                target: None,
            }
        })
        .collect();
    classes.push(("one word", one));
    let two: Vec<Query> = (0..QUERIES_PER_CLASS)
        .map(|_| {
            let v = rng.pick(videos);
            let t = title_words(v);
            let q = format!("{} {}", t[0], t[1]);
            Query {
                fts: q.clone(),
                text: q,
                target: Some(v.id),
            }
        })
        .collect();
    classes.push(("two words", two));
    let typos: Vec<Query> = (0..QUERIES_PER_CLASS)
        .map(|_| {
            let v = rng.pick(videos);
            let t = title_words(v);
            let q = format!("{} {}", typo(rng, &t[0]), t[1]);
            Query {
                fts: q.clone(),
                text: q,
                target: Some(v.id),
            }
        })
        .collect();
    classes.push(("two words, one typo", typos));
    let prefix: Vec<Query> = (0..QUERIES_PER_CLASS)
        .map(|_| {
            let v = rng.pick(videos);
            let t = title_words(v);
            let p: String = t[1].chars().take(4).collect();
            Query {
                text: format!("{} {p}", t[0]),
                fts: format!("{} {p}*", t[0]),
                target: Some(v.id),
            }
        })
        .collect();
    classes.push(("word + prefix", prefix));
    classes
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn dir_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

fn main() {
    let mut rng = Rng(0x5ea7c4);
    let words = vocabulary(&mut rng);
    let videos = catalogue(&mut rng, &words);
    let classes = queries(&mut rng, &videos, &words);
    let work = tempfile::tempdir().unwrap();

    // Vireo's index.
    let dir = work.path().join("tantivy");
    let (search, _) = Search::open(&dir).unwrap();
    let started = Instant::now();
    search.rebuild(videos.iter().cloned(), |_| {}).unwrap();
    let tantivy_build = started.elapsed().as_secs_f64();
    let tantivy_size = dir_size(&dir);

    // SQLite FTS5 on the same text.
    let db_path = work.path().join("fts.sqlite");
    let mut db = rusqlite::Connection::open(&db_path).unwrap();
    let started = Instant::now();
    db.execute_batch(
        "CREATE VIRTUAL TABLE v USING fts5(name, description, tags, owners, tokenize = 'unicode61');",
    )
    .unwrap();
    let tx = db.transaction().unwrap();
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO v(rowid, name, description, tags, owners) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .unwrap();
        for v in &videos {
            insert
                .execute(rusqlite::params![
                    v.id as i64,
                    v.name,
                    v.description,
                    v.tags.join(" "),
                    v.owners.join(" ")
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    let fts_build = started.elapsed().as_secs_f64();
    let fts_size = std::fs::metadata(&db_path).map(|m| m.len()).unwrap_or(0);
    // bm25 weights: name, description, tags, owners — as Vireo weighs them.
    let mut stmt = db
        .prepare(
            "SELECT rowid FROM v WHERE v MATCH ?1 ORDER BY bm25(v, 3.0, 1.0, 2.0, 1.5) LIMIT 10",
        )
        .unwrap();

    println!("{VIDEOS} videos, {QUERIES_PER_CLASS} queries per class, in-process");
    println!("| | build s | size MB |");
    println!("|---|---|---|");
    println!(
        "| vireo (tantivy) | {tantivy_build:.1} | {:.1} |",
        tantivy_size as f64 / 1e6
    );
    println!(
        "| SQLite FTS5 | {fts_build:.1} | {:.1} |",
        fts_size as f64 / 1e6
    );
    println!();
    println!(
        "| query class | vireo p50 ms | p99 ms | top-3 hit | FTS5 p50 ms | p99 ms | top-3 hit |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, qs) in &classes {
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        let (mut our_hits, mut their_hits, mut targets) = (0, 0, 0);
        for q in qs {
            let t = Instant::now();
            let found = search.search(&q.text, 10).unwrap();
            ours.push(t.elapsed().as_secs_f64() * 1000.0);
            let t = Instant::now();
            let fts_query = q
                .fts
                .split(' ')
                .map(|w| {
                    if w.ends_with('*') {
                        w.to_owned()
                    } else {
                        format!("\"{w}\"")
                    }
                })
                .collect::<Vec<_>>()
                .join(" ");
            let rows: Vec<i64> = stmt
                .query_map([fts_query], |r| r.get(0))
                .unwrap()
                .filter_map(Result::ok)
                .collect();
            theirs.push(t.elapsed().as_secs_f64() * 1000.0);
            if let Some(target) = q.target {
                targets += 1;
                if found.iter().take(3).any(|(id, _)| *id == target) {
                    our_hits += 1;
                }
                if rows.iter().take(3).any(|id| *id as u64 == target) {
                    their_hits += 1;
                }
            }
        }
        ours.sort_by(f64::total_cmp);
        theirs.sort_by(f64::total_cmp);
        let rate = |h: usize| {
            if targets == 0 {
                "–".to_owned()
            } else {
                format!("{:.0} %", h as f64 * 100.0 / targets as f64)
            }
        };
        println!(
            "| {name} | {:.2} | {:.2} | {} | {:.2} | {:.2} | {} |",
            percentile(&ours, 0.5),
            percentile(&ours, 0.99),
            rate(our_hits),
            percentile(&theirs, 0.5),
            percentile(&theirs, 0.99),
            rate(their_hits),
        );
    }
}
