// A PouchDB server (express-pouchdb: CouchDB's HTTP replication protocol over PouchDB), its
// databases in LevelDB files under the directory given, on loopback, on a free port that it
// prints as one JSON line once it listens.
'use strict';
const path = require('path');
const express = require('express');
const PouchDB = require('pouchdb');

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node server.js DATA_DIR');
  process.exit(2);
}
const ServerPouch = PouchDB.defaults({ prefix: dir + path.sep });
const app = express();
app.use(
  '/',
  require('express-pouchdb')(ServerPouch, {
    mode: 'minimumForPouchDB',
    configPath: path.join(dir, 'config.json'),
    logPath: path.join(dir, 'log.txt'),
  }),
);
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
