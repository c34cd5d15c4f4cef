// Validate an EPCIS 2.0 document read from standard input with npm epcis2.js (its bundled JSON
// Schema and checks; no network). Exit 0 when valid, 1 with the errors otherwise.
const { validateEpcisDocument } = require('epcis2.js');

let input = '';
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  const result = validateEpcisDocument(JSON.parse(input), false);
  if (result.success) {
    process.exit(0);
  }
  console.log(JSON.stringify(result.errors, null, 1));
  process.exit(1);
});
