// A remote fediverse actor for Vireo's federation tests, signing and verifying with PeerTube's own
// HTTP-signature library (@peertube/http-signature), independent of Vireo's code.
//
// It serves its actor document and inbox on 127.0.0.1, follows a Vireo actor, checks the Accept
// Vireo delivers (signature, digest, key fetched from Vireo), tries forged, altered, stale,
// replayed and mismatched requests, then undoes the follow. It prints one JSON object of what
// it saw; the Rust test judges it.
//
// usage: node peer.js <vireo base URL> <actor path, e.g. /video-channels/x> [refused|listen]
//   refused: only send one signed Follow and report its status (for an instance that must not
//   fetch this actor, which lives on a private address).
//   listen: follow, print {"ready":true,...} once accepted, then answer commands read from
//   stdin, one JSON per line: {"wait":"<activity type>"} prints the next such activity received
//   (verified, and for an Announce the object it names, fetched from Vireo); {"send":{...}}
//   signs and posts that activity to the followed actor's inbox and prints the answer;
//   {"inbox":"down"|"hang"|"up"} makes the inbox answer 503, hold deliveries unanswered (a
//   server that hangs), or answer again (the held ones too); {"stats":true} prints how many
//   deliveries were turned away, are held and were received; {"quit":true} ends.

'use strict'

const http = require('node:http')
const crypto = require('node:crypto')
const httpSignature = require('@peertube/http-signature')

const [vireo, targetPath, mode] = process.argv.slice(2)
const target = vireo + targetPath
const inboxUrl = new URL(target + '/inbox')

const keys = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})
const otherKeys = crypto.generateKeyPairSync('rsa', {
  modulusLength: 2048,
  publicKeyEncoding: { type: 'spki', format: 'pem' },
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' }
})

const received = []
let waiters = []
// 'down': the inbox answers 503 (a server that is down), counting what it turned away;
// 'hang': it holds each delivery unanswered until it is 'up' again.
let inboxMode = 'up'
let refused = 0
const held = []

const server = http.createServer((req, res) => {
  const chunks = []
  req.on('data', c => chunks.push(c))
  req.on('end', () => handle(req, res, Buffer.concat(chunks)).catch(e => {
    res.writeHead(500)
    res.end(String(e))
  }))
})

let base
function actorDoc () {
  return {
    '@context': ['https://www.w3.org/ns/activitystreams', 'https://w3id.org/security/v1'],
    type: 'Person',
    id: base + '/actor',
    preferredUsername: 'peer',
    name: 'A PeerTube-signed peer',
    inbox: base + '/inbox',
    outbox: base + '/outbox',
    endpoints: { sharedInbox: base + '/inbox' },
    publicKey: { id: base + '/actor#main-key', owner: base + '/actor', publicKeyPem: keys.publicKey }
  }
}

async function handle (req, res, body) {
  if (req.method === 'GET' && req.url === '/actor') {
    res.writeHead(200, { 'content-type': 'application/activity+json' })
    res.end(JSON.stringify(actorDoc()))
    return
  }
  if (req.method === 'POST' && req.url === '/inbox' && inboxMode === 'hang') {
    held.push(() => receive(req, res, body))
    return
  }
  if (req.method === 'POST' && req.url === '/inbox' && inboxMode === 'down') {
    refused++
    res.writeHead(503)
    res.end()
    return
  }
  if (req.method === 'POST' && req.url === '/inbox') {
    await receive(req, res, body)
    return
  }
  res.writeHead(404)
  res.end()
}

// Verify a delivery as PeerTube does, keep it for the waiters, and answer 202.
async function receive (req, res, body) {
  const entry = { headers: req.headers, body: body.toString('utf8') }
  try {
    const parsed = httpSignature.parseRequest(req, {
      authorizationHeaderName: 'signature',
      clockSkew: 1800,
      headers: ['(request-target)', 'host', 'date', 'digest']
    })
    const signer = await getJson(parsed.keyId.split('#')[0])
    entry.keyId = parsed.keyId
    entry.signatureValid = httpSignature.verifySignature(parsed, signer.publicKey.publicKeyPem)
    entry.digestValid = req.headers.digest === 'SHA-256=' + crypto.createHash('sha256').update(body).digest('base64')
    entry.signerOwnsKey = signer.publicKey.owner === signer.id && parsed.keyId === signer.publicKey.id
  } catch (e) {
    entry.error = e.name + ': ' + e.message
  }
  received.push(entry)
  // A waiter that finds nothing yet registers again: take the list before calling them.
  const woken = waiters
  waiters = []
  woken.forEach(w => w())
  res.writeHead(202)
  res.end()
}

function getJson (url) {
  return fetch(url, { headers: { accept: 'application/activity+json' } }).then(r => {
    if (!r.ok) throw new Error(url + ' answered ' + r.status)
    return r.json()
  })
}

// Headers for a POST of `body` to the inbox, signed as PeerTube signs (a stand-in request object
// with the path only), by `privateKey` under `keyId`.
function signedHeaders (body, { privateKey = keys.privateKey, keyId = base + '/actor#main-key', date = new Date() } = {}) {
  const headers = {
    host: inboxUrl.host,
    date: date.toUTCString(),
    digest: 'SHA-256=' + crypto.createHash('sha256').update(body).digest('base64'),
    'content-type': 'application/activity+json'
  }
  httpSignature.signRequest({
    getHeader: h => headers[h.toLowerCase()],
    setHeader: (h, v) => { headers[h.toLowerCase()] = v },
    method: 'POST',
    path: inboxUrl.pathname
  }, {
    algorithm: 'rsa-sha256',
    authorizationHeaderName: 'signature',
    keyId,
    key: privateKey,
    headers: ['(request-target)', 'host', 'date', 'digest']
  })
  return headers
}

function post (headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(inboxUrl, { method: 'POST', headers }, res => {
      let text = ''
      res.on('data', c => (text += c))
      res.on('end', () => resolve({ status: res.statusCode, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

function waitFor (predicate, ms) {
  return new Promise(resolve => {
    const deadline = setTimeout(() => resolve(undefined), ms)
    const check = () => {
      const hit = received.find(predicate)
      if (hit) {
        clearTimeout(deadline)
        resolve(hit)
      } else {
        waiters.push(check)
      }
    }
    check()
  })
}

async function followers () {
  return (await getJson(target + '/followers')).totalItems
}

async function main () {
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve))
  base = 'http://127.0.0.1:' + server.address().port
  const me = base + '/actor'
  const result = { actor: me }
  const follow = JSON.stringify({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: base + '/follows/1',
    type: 'Follow',
    actor: me,
    object: target
  })

  if (mode === 'refused') {
    result.follow = await post(signedHeaders(follow), follow)
    return result
  }
  if (mode === 'listen') {
    return listen(follow)
  }

  // Unsigned, forged, altered, stale and mismatched requests: refused, nothing kept.
  const unsigned = { host: inboxUrl.host, date: new Date().toUTCString(), 'content-type': 'application/activity+json' }
  result.unsigned = await post(unsigned, follow)
  result.forged = await post(signedHeaders(follow, { privateKey: otherKeys.privateKey }), follow)
  const altered = follow.replace('/follows/1', '/follows/2')
  result.altered = await post(signedHeaders(follow), altered)
  result.stale = await post(signedHeaders(follow, { date: new Date(Date.now() - 2 * 3600 * 1000) }), follow)
  const someoneElse = follow.replace('"actor":"' + me + '"', '"actor":"' + base + '/other"')
  result.mismatched = await post(signedHeaders(someoneElse), someoneElse)
  result.followersAfterRefusals = await followers()

  // The real follow, accepted, and its Accept delivered signed.
  const headers = signedHeaders(follow)
  result.follow = await post(headers, follow)
  const accept = await waitFor(e => e.body.includes('"Accept"'), 30000)
  result.accept = accept && { ...accept, activity: JSON.parse(accept.body) }
  result.followersAfterFollow = await followers()
  result.followersPage = (await getJson(target + '/followers?page=1')).orderedItems

  // The same request again, within its signature's lifetime.
  result.replayed = await post(headers, follow)

  // Undo (Mastodon's shape: the Follow embedded).
  const undo = JSON.stringify({
    '@context': 'https://www.w3.org/ns/activitystreams',
    id: base + '/follows/1/undo',
    type: 'Undo',
    actor: me,
    object: JSON.parse(follow)
  })
  result.undo = await post(signedHeaders(undo), undo)
  result.followersAfterUndo = await followers()

  // Hostile JSON, signed: not an activity, deeply nested, an unknown type.
  const notJson = '{"type": "Follow", '
  result.notJson = await post(signedHeaders(notJson), notJson)
  const nested = '{"actor":"' + me + '","type":"Note","x":' + '['.repeat(5000) + ']'.repeat(5000) + '}'
  result.nested = await post(signedHeaders(nested), nested)
  const unknown = JSON.stringify({ id: base + '/x/1', type: 'Wiggle', actor: me, object: target })
  result.unknownType = await post(signedHeaders(unknown), unknown)
  const nobody = JSON.stringify({ id: base + '/follows/3', type: 'Follow', actor: me, object: vireo + '/accounts/nobody-here' })
  result.followOfNobody = await post(signedHeaders(nobody), nobody)

  // An actor whose document is gone (this server answers 404 for it): its own Delete is taken
  // without a key to check, anything else it sends is refused.
  const gone = base + '/gone'
  const goneKey = { keyId: gone + '#main-key' }
  const selfDelete = JSON.stringify({ id: gone + '#delete', type: 'Delete', actor: gone, object: gone })
  result.goneSelfDelete = await post(signedHeaders(selfDelete, goneKey), selfDelete)
  const goneFollow = JSON.stringify({ id: gone + '/follows/1', type: 'Follow', actor: gone, object: target })
  result.goneFollow = await post(signedHeaders(goneFollow, goneKey), goneFollow)
  return result
}

async function listen (follow) {
  const followed = await post(signedHeaders(follow), follow)
  const accept = await waitFor(e => e.body.includes('"Accept"'), 30000)
  process.stdout.write(JSON.stringify({ ready: !!accept, follow: followed, actor: base + '/actor' }) + '\n')
  const taken = new Set()
  const lines = require('node:readline').createInterface({ input: process.stdin })
  for await (const line of lines) {
    const command = JSON.parse(line)
    if (command.quit) break
    if (command.inbox) {
      inboxMode = command.inbox
      if (inboxMode === 'up') {
        for (const release of held.splice(0)) await release()
      }
      process.stdout.write(JSON.stringify({ inbox: command.inbox }) + '\n')
      continue
    }
    if (command.stats) {
      process.stdout.write(JSON.stringify({ refused, held: held.length, received: received.length }) + '\n')
      continue
    }
    if (command.send) {
      const body = JSON.stringify(command.send)
      process.stdout.write(JSON.stringify(await post(signedHeaders(body), body)) + '\n')
      continue
    }
    const entry = await waitFor(e => {
      if (taken.has(e)) return false
      try { return JSON.parse(e.body).type === command.wait } catch (_) { return false }
    }, 60000)
    if (!entry) {
      process.stdout.write(JSON.stringify({ timeout: command.wait, received: received.map(e => e.body) }) + '\n')
      continue
    }
    taken.add(entry)
    const activity = JSON.parse(entry.body)
    const answer = { ...entry, activity }
    if (activity.type === 'Announce' && typeof activity.object === 'string') {
      answer.object = await getJson(activity.object)
    }
    process.stdout.write(JSON.stringify(answer) + '\n')
  }
  return null
}

main().then(r => {
  if (r) process.stdout.write(JSON.stringify(r) + '\n')
  server.close()
  process.exit(0)
}, e => {
  process.stderr.write(String(e && e.stack || e) + '\n')
  process.exit(1)
})
