import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineRegister(args): 'shipline register' on this agent: register the release's task definition.
 * Parameters, return value and an example: shiplineRegister.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineRegister')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineRegister: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
