import io.shipline.CliStep

/**
 * shiplineScanGate(args): 'shipline scan-gate' on this agent: wait for the image scan and fail on
 * findings at or above the threshold.
 * Parameters, return value and an example: shiplineScanGate.txt (generated from the CLI's parameter spec).
 */
Map call(Map args = [:]) {
    return CliStep.run(this, 'shiplineScanGate', args)
}
