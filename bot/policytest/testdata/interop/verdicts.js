// Reads a policy list room's state (the JSON array of GET
// /rooms/{roomId}/state) and Gavel's verdicts, and checks them against
// Draupnir's policy library (@gnuxie/matrix-protection-suite): it must
// parse every rule in the state, and match each entity asked about to the
// same rules as Gavel. Prints what differs and exits 1, or prints a
// summary. Usage: node verdicts.js state.json verdicts.json
'use strict';
const fs = require('fs');
const mps = require('@gnuxie/matrix-protection-suite');
const { MatrixRoomID } = require('@the-draupnir-project/matrix-basic-types');

const [stateFile, verdictsFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
const verdicts = JSON.parse(fs.readFileSync(verdictsFile, 'utf8'));
const problems = [];

const kinds = { user: mps.PolicyRuleType.User, room: mps.PolicyRuleType.Room, server: mps.PolicyRuleType.Server };
const rules = state.filter((e) => mps.normalisePolicyRuleType(e.type) !== mps.PolicyRuleType.Unknown && Object.keys(e.content).length > 0);
for (const e of rules) {
  const parsed = mps.parsePolicyRule(e);
  if (!parsed.isOkay) {
    problems.push(`parsePolicyRule refused ${e.type} ${JSON.stringify(e.state_key)}: ${parsed.error.message}`);
  }
}

const roomID = state.length > 0 ? state[0].room_id : '!unknown:example.org';
const revision = mps.StandardPolicyRoomRevision.blankRevision(new MatrixRoomID(roomID, [])).reviseFromState(state);
for (const v of verdicts) {
  const got = revision
    .allRulesMatchingEntity(v.entity, { type: kinds[v.kind] })
    .map((r) => r.entity)
    .sort();
  const want = [...v.gavel].sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    problems.push(`${v.kind} ${v.entity}: Draupnir's library matches ${JSON.stringify(got)}, Gavel ${JSON.stringify(want)}`);
  }
}

if (problems.length > 0) {
  console.log(problems.join('\n'));
  process.exit(1);
}
console.log(`Draupnir's library parsed ${rules.length} rules and agreed with Gavel on ${verdicts.length} entities`);
