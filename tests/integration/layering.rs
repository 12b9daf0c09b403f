//! The house rules of `src/`, checked over its `use` lines and paths (parsed with `syn`): which
//! layer may import which, and no import circle inside `service/`, `media/`, `model/` or
//! `store/`. ARCHITECTURE.md explains the layers; this test keeps them true.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// What each top-level module may import besides itself (and the standard library and
/// crates). Anything not listed is refused.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("config", &["auth", "media", "model"]),
    ("store", &["model"]),
    ("media", &["model"]),
    ("search", &["model"]),
    ("auth", &["model"]),
    (
        "service",
        &["auth", "config", "media", "model", "search", "store"],
    ),
    ("jobs", &["config", "media", "model", "service", "store"]),
    ("http", &["auth", "config", "model", "service"]),
    // The edges: each calls `service/` and `http/`, never another edge, the store, the media
    // code or the job runner.
    ("api", &["config", "http", "model", "service"]),
    ("web", &["auth", "config", "http", "model", "service"]),
    ("federation", &["config", "http", "model", "service"]),
    ("admin", &["config", "model", "service"]),
    ("app", &["api", "federation", "http", "web"]),
    (
        "server",
        &[
            "admin",
            "app",
            "auth",
            "config",
            "federation",
            "http",
            "jobs",
            "model",
            "service",
            "web",
        ],
    ),
];

/// The folders whose files must not import each other in a circle. A folder's `mod.rs` is left
/// out: it is the folder's front door (it declares every file and holds what they all share).
const NO_CIRCLES_IN: &[&str] = &["service", "media", "model", "store"];

#[test]
fn layers_import_only_downwards() {
    let graph = Graph::of_crate();
    let allowed: BTreeMap<&str, BTreeSet<&str>> = ALLOWED
        .iter()
        .map(|(m, deps)| (*m, deps.iter().copied().collect()))
        .collect();
    let mut wrong = Vec::new();
    for (from, tos) in &graph.edges {
        let top = from.first().map(String::as_str).unwrap_or("");
        let Some(ok) = allowed.get(top) else {
            wrong.push(format!(
                "{} is in no layer (add it to ALLOWED)",
                from.join("::")
            ));
            continue;
        };
        for to in tos {
            let target = to.first().map(String::as_str).unwrap_or("");
            if target != top && !ok.contains(target) {
                wrong.push(format!("{} imports {}", from.join("::"), to.join("::")));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports across layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn no_import_circles_inside_the_lower_layers() {
    let graph = Graph::of_crate();
    let mut circles = Vec::new();
    for folder in NO_CIRCLES_IN {
        let inside = |m: &Vec<String>| {
            m.first().map(String::as_str) == Some(folder) && !graph.front_doors.contains(m)
        };
        let nodes: Vec<&Vec<String>> = graph.files.iter().filter(|m| inside(m)).collect();
        let edges: BTreeMap<&Vec<String>, Vec<&Vec<String>>> = nodes
            .iter()
            .map(|m| {
                let tos = graph.edges.get(*m).into_iter().flatten();
                (*m, tos.filter(|t| inside(t) && t != m).collect())
            })
            .collect();
        for component in strongly_connected(&nodes, &edges) {
            if component.len() > 1 {
                let names: Vec<String> = component.iter().map(|m| m.join("::")).collect();
                circles.push(names.join(" ↔ "));
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

/// The crate's files (as module paths) and which files each one imports.
struct Graph {
    files: BTreeSet<Vec<String>>,
    /// The modules that are a folder's `mod.rs`.
    front_doors: BTreeSet<Vec<String>>,
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

impl Graph {
    fn of_crate() -> Graph {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut paths = Vec::new();
        collect_rs(&src, &mut paths);
        let files: BTreeSet<Vec<String>> = paths.iter().map(|p| module_of(&src, p)).collect();
        let front_doors = paths
            .iter()
            .filter(|p| p.ends_with("mod.rs"))
            .map(|p| module_of(&src, p))
            .collect();
        let mut edges = BTreeMap::new();
        for path in &paths {
            let module = module_of(&src, path);
            if module.is_empty() || module == ["main"] {
                continue; // lib.rs and main.rs declare the layers; they are above them all
            }
            let text = std::fs::read_to_string(path).unwrap();
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut refs = Refs {
                here: module.clone(),
                is_mod_rs: path.ends_with("mod.rs"),
                found: Vec::new(),
            };
            refs.visit_file(&file);
            let targets: BTreeSet<Vec<String>> = refs
                .found
                .iter()
                .filter_map(|p| file_of(&files, p))
                .filter(|t| *t != module)
                .collect();
            edges.insert(module, targets);
        }
        Graph {
            files,
            front_doors,
            edges,
        }
    }
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/service/visibility.rs` → `[service, visibility]`; `src/media/mod.rs` → `[media]`.
fn module_of(src: &Path, path: &Path) -> Vec<String> {
    let rel = path.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

/// The file a path (from the crate root) lands in: its longest prefix that is a file.
fn file_of(files: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| files.contains(prefix))
}

/// Every path a file names that starts at `crate::` or `super::`, from the crate root, outside
/// its `#[cfg(test)]` items (tests may reach anywhere).
struct Refs {
    here: Vec<String>,
    is_mod_rs: bool,
    found: Vec<Vec<String>>,
}

impl Refs {
    fn absolute(&self, segments: &[String]) -> Option<Vec<String>> {
        let first = segments.first()?;
        match first.as_str() {
            "crate" => Some(segments[1..].to_vec()),
            "super" => {
                // In `a/b.rs` (module a::b) `super` is `a`; in `a/mod.rs` (module a) it is the
                // crate root.
                let mut base = self.here.clone();
                base.pop();
                let mut rest = &segments[1..];
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                Some(base)
            }
            "self" if self.is_mod_rs => {
                let mut base = self.here.clone();
                base.extend(segments[1..].iter().cloned());
                Some(base)
            }
            _ => None,
        }
    }

    fn add(&mut self, segments: Vec<String>) {
        if let Some(p) = self.absolute(&segments) {
            self.found.push(p);
        }
    }

    fn expand(&mut self, prefix: Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                let mut next = prefix;
                next.push(p.ident.to_string());
                self.expand(next, &p.tree);
            }
            syn::UseTree::Name(n) => {
                let mut full = prefix;
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(full);
            }
            syn::UseTree::Rename(r) => {
                let mut full = prefix;
                full.push(r.ident.to_string());
                self.add(full);
            }
            syn::UseTree::Glob(_) => self.add(prefix),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.expand(prefix.clone(), t);
                }
            }
        }
    }
}

fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

impl<'ast> Visit<'ast> for Refs {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        if !is_test_only(&u.attrs) {
            self.expand(Vec::new(), &u.tree);
        }
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_test_only(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test_only(&f.attrs) {
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add(segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        // Paths inside macro calls (`tracing::…!`, `format!`) are tokens, not syntax: read
        // the ones written `crate::a::b`.
        let tokens: Vec<String> = m
            .tokens
            .clone()
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            if t == "crate" {
                let path: Vec<String> = std::iter::once("crate".to_owned())
                    .chain(
                        tokens[i + 1..]
                            .chunks(3)
                            .take_while(|c| c.len() == 3 && c[0] == ":" && c[1] == ":")
                            .map(|c| c[2].clone()),
                    )
                    .collect();
                self.add(path);
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// Tarjan's strongly connected components.
fn strongly_connected<'a>(
    nodes: &[&'a Vec<String>],
    edges: &BTreeMap<&'a Vec<String>, Vec<&'a Vec<String>>>,
) -> Vec<Vec<&'a Vec<String>>> {
    struct State<'a> {
        index: usize,
        indices: BTreeMap<&'a Vec<String>, usize>,
        low: BTreeMap<&'a Vec<String>, usize>,
        stack: Vec<&'a Vec<String>>,
        on_stack: BTreeSet<&'a Vec<String>>,
        out: Vec<Vec<&'a Vec<String>>>,
    }
    fn visit<'a>(
        v: &'a Vec<String>,
        edges: &BTreeMap<&'a Vec<String>, Vec<&'a Vec<String>>>,
        s: &mut State<'a>,
    ) {
        s.indices.insert(v, s.index);
        s.low.insert(v, s.index);
        s.index += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in edges.get(v).into_iter().flatten() {
            if !s.indices.contains_key(w) {
                visit(w, edges, s);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.indices[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.indices[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            s.out.push(component);
        }
    }
    let mut s = State {
        index: 0,
        indices: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in nodes {
        if !s.indices.contains_key(*v) {
            visit(v, edges, &mut s);
        }
    }
    s.out
}
