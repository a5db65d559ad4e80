"""The AWS-facing logic of the day-two commands (`shipyard status|logs|exec|rollback|run`):
reading what the stack made from its outputs, calling AWS through the standard credential chain,
and turning each answer into something a person or a pipeline can act on. The command modules
in `shipyard_preview/commands/` only parse arguments and print."""
