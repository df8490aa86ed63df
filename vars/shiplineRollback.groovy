import io.shipline.CliStep

/**
 * shiplineRollback(args): 'shipline rollback' on this agent: return the service to its previous (or a named) revision.
 * Parameters, return value and an example: shiplineRollback.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineRollback', args)
}
