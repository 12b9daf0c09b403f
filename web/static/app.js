// Vireo's small page helpers, loaded on every page (no framework, no build step).
// "/" focuses the search box, as on most video sites.
const search = document.getElementById('q');
document.addEventListener('keydown', (e) => {
  if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
  if (search) {
    e.preventDefault();
    search.focus();
  }
});
