package io.shipline

import groovy.json.JsonOutput

/**
 * One run of the shipline CLI for one step. The params go into a JSON file; exactly one sh runs the step's
 * constant script, which names only $SHIPLINE_* variables (the executable and the two file paths, set with
 * withEnv): no value of the caller ever becomes part of a shell command. Then the result document is read.
 * Holds only strings and the params, so it is Serializable.
 */
class CliCall implements Serializable {
    private static final long serialVersionUID = 1L

    final String step
    final String label
    final String script
    /** The CLI's params: snake_case keys, defaults applied. */
    final Map params

    CliCall(StepSpec spec, Map args) {
        this.step = spec.step
        this.label = spec.label
        this.script = spec.script
        this.params = spec.cliParams(args)
    }

    /**
     * Runs the CLI at `bin` through `steps` (the calling vars script) in the current node and directory.
     * Returns the command's result Map; a non-zero exit fails the build with the CLI's message, except an
     * exit code in `returned`, which returns the CLI's error document (with its exit_code) instead.
     */
    Map run(Object steps, String bin, List<Integer> returned = []) {
        // Unique per call: parallel branches may run the same step in one workspace.
        String tmp = steps.pwd(tmp: true)
        String base = tmp + '/' + step + '-' + UUID.randomUUID().toString().take(8)
        String paramsFile = base + '-params.json'
        String resultFile = base + '-result.json'
        // writeFile, not writeJSON: json-lib would turn a String value like '[x]' or 'null' into JSON.
        steps.writeFile(file: paramsFile, text: JsonOutput.toJson(params), encoding: 'UTF-8')
        int status = 0
        List<String> env = ['SHIPLINE_BIN=' + bin, 'SHIPLINE_PARAMS=' + paramsFile,
                            'SHIPLINE_RESULT=' + resultFile]
        steps.withEnv(env) {
            status = steps.sh(label: label, returnStatus: true, script: script) as int
        }
        Map document = null
        if (steps.fileExists(resultFile)) {
            document = steps.readJSON(file: resultFile, returnPojo: true) as Map
        }
        CliResult result = CliResult.of(document, status)
        if (!result.ok && result.exitCode in returned && result.error != null) {
            return result.error
        }
        if (!result.ok) {
            steps.error("${step}: ${result.message} (exit ${result.exitCode})")
        }
        return result.value
    }
}
