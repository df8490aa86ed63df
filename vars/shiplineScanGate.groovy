import io.shipline.CliCall
import io.shipline.StepSpec

/**
 * shiplineScanGate(args): 'shipline scan-gate' on this agent: wait for the image scan and fail on
 * findings at or above the threshold.
 * Parameters, return value and an example: shiplineScanGate.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    StepSpec spec = StepSpec.load(this, 'shiplineScanGate')
    List<String> problems = spec.problems(args)
    if (problems) {
        error("shiplineScanGate: ${problems.join('; ')}")
    }
    return new CliCall(spec, args).run(this, shiplineInstall())
}
