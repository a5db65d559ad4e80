// Evaluates IAM requests with @cloud-copilot/iam-simulate, a maintained model of AWS's policy
// evaluation logic (identity policies, permissions boundaries, resource policies, SCPs/RCPs).
// Protocol: one JSON array of cases on stdin; one JSON array of results on stdout, in order.
// A case: {principal, action, resource, resourceAccount, context, identityPolicies,
//          boundaryPolicies, resourcePolicy}; a result: {decision, errors?}.
// Errors in a case (an invalid policy, an unknown action) come back as decision "Error" with
// the simulator's message, so the caller fails closed instead of reading a verdict.
import { runSimulation } from '@cloud-copilot/iam-simulate';

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));

const named = (prefix, policies) =>
  (policies || []).map((policy, index) => ({ name: `${prefix}${index}`, policy }));

const results = [];
for (const c of cases) {
  const simulation = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context || {},
    },
    identityPolicies: named('identity', c.identityPolicies),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (c.boundaryPolicies && c.boundaryPolicies.length) {
    simulation.permissionBoundaryPolicies = named('boundary', c.boundaryPolicies);
  }
  if (c.resourcePolicy) simulation.resourcePolicy = c.resourcePolicy;
  try {
    const outcome = await runSimulation(simulation, {});
    if (outcome.resultType === 'error') {
      results.push({ decision: 'Error', errors: outcome.errors.message || JSON.stringify(outcome.errors) });
    } else {
      results.push({ decision: outcome.overallResult });
    }
  } catch (error) {
    results.push({ decision: 'Error', errors: String(error && error.message || error) });
  }
}
process.stdout.write(JSON.stringify(results));
