// Words the pages build from API values, with no DOM: importable by node in the unit tests.

// An approver's decision as the API names it ("approve", "reject") in the past tense: "alex rejected".
const DECIDED = { approve: "approved", reject: "rejected" };

export function decided(decision) {
  return DECIDED[decision] ?? String(decision);
}
