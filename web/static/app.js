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

// The watch page's like and dislike buttons: PUT /api/v1/videos/{id}/rate with the session's
// CSRF token. Pressing the pressed one again takes the rate back. The counts move here at once;
// the server's are the same after the next load.
const rating = document.querySelector('.rating[data-rate]');
if (rating) {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || '';
  rating.addEventListener('click', async (e) => {
    const pressed = e.target.closest('button[data-kind]');
    if (!pressed || rating.dataset.busy) return;
    const before = rating.dataset.rating;
    const after = before === pressed.dataset.kind ? 'none' : pressed.dataset.kind;
    rating.dataset.busy = '1';
    try {
      const res = await fetch(rating.dataset.rate, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ rating: after }),
        credentials: 'same-origin',
      });
      if (!res.ok) return;
      for (const b of rating.querySelectorAll('button[data-kind]')) {
        const n = b.querySelector('.n');
        const kind = b.dataset.kind;
        n.textContent = String(Number(n.textContent) - (kind === before ? 1 : 0) + (kind === after ? 1 : 0));
        b.setAttribute('aria-pressed', String(kind === after));
      }
      rating.dataset.rating = after;
    } finally {
      delete rating.dataset.busy;
    }
  });
}
