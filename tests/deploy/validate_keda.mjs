// Validates KEDA objects against the KEDA CRD schemas of @kubernetes-models/keda.
// Reads a JSON array of objects on stdin; prints one line per object; exit 1 on any error.
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";

const kinds = { ScaledObject };
const input = await new Promise((resolve) => {
  let data = "";
  process.stdin.on("data", (chunk) => (data += chunk));
  process.stdin.on("end", () => resolve(data));
});
let failed = false;
for (const obj of JSON.parse(input)) {
  const Model = kinds[obj.kind];
  const name = `${obj.kind}/${obj.metadata?.name}`;
  if (!Model) {
    console.log(`FAIL ${name}: no KEDA model for this kind`);
    failed = true;
    continue;
  }
  try {
    new Model(obj).validate();
    console.log(`ok ${name}`);
  } catch (err) {
    console.log(`FAIL ${name}: ${err.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
