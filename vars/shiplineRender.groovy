import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineRender(args): 'shipline render' on this agent: render and validate the release's task definition.
 * Parameters, return value and an example: shiplineRender.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineRender')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineRender: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
