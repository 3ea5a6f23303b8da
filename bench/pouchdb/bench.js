// Issue 5, the baseline: the same events as Ardoise's end-to-end sync bench, as PouchDB
// documents, replicated from a local PouchDB to a PouchDB server on loopback (push) and from
// the server to a second local PouchDB (pull). Every database is LevelDB on the same disk.
//
//   node bench.js EVENTS_JSON DATA_DIR [ARDOISE_RESULTS_JSON]
//
// EVENTS_JSON is the till's outbox exported by `cargo bench -p ardoise-server --bench sync`
// (target/bench-data/sync-events-100000.json): each event {id, seq, kind, hlc, payload}
// becomes the document {_id: id, seq, kind, hlc, payload}. POUCH_BATCHES picks the replication
// batch sizes: "matched" (500 per push, 1000 per pull, as Ardoise's protocol), "default"
// (PouchDB's 100), or "both" (the default). Results: DATA_DIR/pouchdb-results.json.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn } = require('child_process');
const PouchDB = require('pouchdb');

const [eventsPath, dataDir, ardoisePath] = process.argv.slice(2);
if (!eventsPath || !dataDir) {
  console.error('usage: node bench.js EVENTS_JSON DATA_DIR [ARDOISE_RESULTS_JSON]');
  process.exit(2);
}

function secs(t0) {
  const [s, ns] = process.hrtime(t0);
  return s + ns / 1e9;
}

function startServer(dir) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'server.js'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve({ child, port: JSON.parse(buf.slice(0, nl)).port });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function cpuOf(pid) {
  // utime + stime of a process, in seconds (Linux).
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch (_) {
    return NaN;
  }
}

async function once(label, docs, pushBatch, pullBatch) {
  const root = fs.mkdtempSync(path.join(dataDir, 'pouchdb-'));
  const serverDir = path.join(root, 'server');
  fs.mkdirSync(serverDir);
  const { child, port } = await startServer(serverDir);
  const a = new PouchDB(path.join(root, 'till-a'));
  const b = new PouchDB(path.join(root, 'till-b'));
  const remote = `http://127.0.0.1:${port}/events`;
  try {
    // Till A's events, written locally first (untimed, like the Ardoise till's own writes).
    let t = process.hrtime();
    for (let i = 0; i < docs.length; i += 1000) {
      const res = await a.bulkDocs(docs.slice(i, i + 1000));
      const bad = res.filter((r) => r.error);
      if (bad.length) throw new Error(`local write failed: ${JSON.stringify(bad[0])}`);
    }
    console.error(`[${label}] ${docs.length} documents written to till A in ${secs(t).toFixed(1)} s (untimed)`);

    const cpu0 = cpuOf(child.pid);
    const self0 = process.cpuUsage();
    t = process.hrtime();
    const push = await PouchDB.replicate(a, remote, { batch_size: pushBatch });
    const pushSecs = secs(t);
    const cpu1 = cpuOf(child.pid);
    const self1 = process.cpuUsage(self0);
    if (push.docs_written !== docs.length || push.doc_write_failures) {
      throw new Error(`push wrote ${push.docs_written} of ${docs.length} (${push.doc_write_failures} failures)`);
    }
    const self2 = process.cpuUsage();
    t = process.hrtime();
    const pull = await PouchDB.replicate(remote, b, { batch_size: pullBatch });
    const pullSecs = secs(t);
    const cpu2 = cpuOf(child.pid);
    const self3 = process.cpuUsage(self2);
    if (pull.docs_written !== docs.length || pull.doc_write_failures) {
      throw new Error(`pull wrote ${pull.docs_written} of ${docs.length} (${pull.doc_write_failures} failures)`);
    }
    const info = await b.info();
    if (info.doc_count !== docs.length) throw new Error(`till B holds ${info.doc_count} documents`);
    const sample = await b.get(docs[docs.length - 1]._id);
    if (JSON.stringify(sample.payload) !== JSON.stringify(docs[docs.length - 1].payload)) {
      throw new Error('till B has a different payload');
    }
    const e2e = pushSecs + pullSecs;
    const r = {
      label,
      documents: docs.length,
      push_batch: pushBatch,
      pull_batch: pullBatch,
      push: { secs: pushSecs, docs_per_sec: docs.length / pushSecs, server_cpu_secs: cpu1 - cpu0,
        client_cpu_secs: (self1.user + self1.system) / 1e6 },
      pull: { secs: pullSecs, docs_per_sec: docs.length / pullSecs, server_cpu_secs: cpu2 - cpu1,
        client_cpu_secs: (self3.user + self3.system) / 1e6 },
      end_to_end: { secs: e2e, docs_per_sec: docs.length / e2e },
    };
    console.error(
      `[${label}] push ${pushSecs.toFixed(2)} s = ${r.push.docs_per_sec.toFixed(0)} docs/s; ` +
        `pull ${pullSecs.toFixed(2)} s = ${r.pull.docs_per_sec.toFixed(0)} docs/s; ` +
        `end to end ${e2e.toFixed(2)} s = ${r.end_to_end.docs_per_sec.toFixed(0)} docs/s ` +
        `(server CPU ${r.push.server_cpu_secs.toFixed(1)} + ${r.pull.server_cpu_secs.toFixed(1)} s, ` +
        `client CPU ${r.push.client_cpu_secs.toFixed(1)} + ${r.pull.client_cpu_secs.toFixed(1)} s)`,
    );
    return r;
  } finally {
    await a.close();
    await b.close();
    child.kill('SIGTERM');
    await new Promise((res) => child.once('exit', res));
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function compare(pouch, ardoise) {
  const rows = [];
  for (const e of ardoise.e2e || []) {
    if (e.events !== pouch.documents) continue;
    const ratio = (x, y) => x / y;
    rows.push({
      ardoise_backend: e.backend,
      pouchdb_run: pouch.label,
      push_ratio: ratio(e.push.events_per_sec, pouch.push.docs_per_sec),
      pull_ratio: ratio(e.pull.events_per_sec, pouch.pull.docs_per_sec),
      end_to_end_ratio: ratio(e.end_to_end.events_per_sec, pouch.end_to_end.docs_per_sec),
    });
  }
  return rows;
}

async function main() {
  const t = process.hrtime();
  const events = JSON.parse(fs.readFileSync(eventsPath, 'utf8'));
  const docs = events.map((e) => ({ _id: e.id, seq: e.seq, kind: e.kind, hlc: e.hlc, payload: e.payload }));
  const bytes = docs.reduce((n, d) => n + JSON.stringify(d).length, 0);
  console.error(`${docs.length} documents from ${eventsPath} (${(bytes / 1e6).toFixed(1)} MB of JSON), read in ${secs(t).toFixed(1)} s`);
  const which = process.env.POUCH_BATCHES || 'both';
  const runs = [];
  if (which === 'matched' || which === 'both') runs.push(await once('matched batches (500 push / 1000 pull)', docs, 500, 1000));
  if (which === 'default' || which === 'both') runs.push(await once('PouchDB default batches (100)', docs, 100, 100));
  let ardoise = null;
  if (ardoisePath && fs.existsSync(ardoisePath)) ardoise = JSON.parse(fs.readFileSync(ardoisePath, 'utf8'));
  const ratios = ardoise ? runs.flatMap((r) => compare(r, ardoise)) : [];
  for (const r of ratios) {
    console.error(
      `Ardoise (${r.ardoise_backend}) / PouchDB (${r.pouchdb_run}): push ${r.push_ratio.toFixed(2)}x, ` +
        `pull ${r.pull_ratio.toFixed(2)}x, end to end ${r.end_to_end_ratio.toFixed(2)}x`,
    );
  }
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    pouchdb: require('pouchdb/package.json').version,
    express_pouchdb: require('express-pouchdb/package.json').version,
    adapter: 'leveldb',
    cpus: os.cpus().length,
    documents: docs.length,
    json_bytes: bytes,
    runs,
    ratios_vs_ardoise: ratios,
    ardoise_results: ardoisePath || null,
  };
  const file = path.join(dataDir, 'pouchdb-results.json');
  fs.writeFileSync(file, JSON.stringify(out, null, 2));
  console.error(`results in ${file}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
