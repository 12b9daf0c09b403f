// What the browser checks read of Vireo's player (web/static/player.js) in a page: its state,
// as the player element's data attributes and its video element say, and a wait for a state.

/// The player's state: its data attributes, the video's time, pause and error, and the
/// message it shows, if any.
export async function playerState(page) {
  return page.evaluate(() => {
    const r = document.getElementById('player');
    const v = r.querySelector('video');
    const m = r.querySelector('.vp-message');
    return { ...r.dataset, config: undefined, t: v.currentTime, paused: v.paused, error: v.error ? `${v.error.code} ${v.error.message}` : null, message: m && !m.hidden ? m.textContent : null };
  });
}

/// Wait until `pred(state)` holds, polling the player; throws on a player error, or with the
/// last state on timeout.
export async function waitPlayer(page, pred, ms) {
  const end = Date.now() + ms;
  let s;
  while (Date.now() < end) {
    s = await playerState(page);
    if (s.error || s.message) throw new Error(`player error: ${s.error || s.message}`);
    if (pred(s)) return s;
    await page.waitForTimeout(100);
  }
  throw new Error(`timed out; player state ${JSON.stringify(s)}`);
}
