import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineRollback(args): 'shipline rollback' on this agent: return the service to its previous (or a named) revision.
 * Parameters, return value and an example: shiplineRollback.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineRollback')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineRollback: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
