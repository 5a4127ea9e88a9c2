// The local stack's S3 (started by cheese_local/emulators.py): s3rver keeping every object as
// files under a directory, accepting the stack's credentials. Prints {"port": N} once listening
// and exits when its parent goes away (its stdin closes), so a kill -9 of the stack ends it too.
'use strict';
const S3rver = require('s3rver');
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account');

const [directory, port] = process.argv.slice(2);
DUMMY_ACCOUNT.createKeyPair(process.env.AWS_ACCESS_KEY_ID, process.env.AWS_SECRET_ACCESS_KEY);

new S3rver({
  address: '127.0.0.1',
  port: Number(port || 0),
  directory,
  silent: true,
  vhostBuckets: false,
})
  .run()
  .then(address => process.stdout.write(JSON.stringify({ port: address.port }) + '\n'))
  .catch(error => {
    process.stderr.write(`s3rver failed to start: ${error.stack || error}\n`);
    process.exit(1);
  });

process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
