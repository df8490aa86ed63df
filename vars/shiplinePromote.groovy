import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplinePromote(args): 'shipline promote' on this agent: copy an image by digest to another
 * environment's registry.
 * Parameters, return value and an example: shiplinePromote.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplinePromote')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplinePromote: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
