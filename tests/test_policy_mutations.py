"""The checked-in mutation corpus (tests/policy_mutations.py) through the real pack process."""

import policy_mutations


def test_mutation_corpus_kills_every_mutant_without_false_alarms(pack):
    summary = policy_mutations.run(pack)
    print(summary.line())
    assert summary.survivors == [] and summary.alarms == [] and summary.crashes == 0, \
        summary.line()
    assert summary.killed == summary.mutants > 0


def test_every_rule_has_a_mutant(pack):
    covered = ({rule for rule, _, _ in policy_mutations.MUTANTS}
               | {rule for rule, _ in policy_mutations.STACK_MUTANTS})
    assert covered == {p.name for p in pack.policies}
