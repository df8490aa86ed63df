package io.shipline

import com.cloudbees.groovy.cps.NonCPS

/**
 * What one run of the shipline CLI returned: from its result document ({"ok", "exit_code", "result",
 * "error", ...}, written with --result-file, also on failure) and the shell's exit status.
 */
class CliResult implements Serializable {
    private static final long serialVersionUID = 1L

    final boolean ok
    final int exitCode
    /** The command's result as a plain LinkedHashMap (null when not ok). */
    final Map value
    /** The CLI's one-line error message (null when ok). */
    final String message
    /** The CLI's error document ({type, message, exit_code, details...}; null when ok or none written). */
    final Map error

    CliResult(boolean ok, int exitCode, Map value, String message, Map error = null) {
        this.ok = ok
        this.exitCode = exitCode
        this.value = value
        this.message = message
        this.error = error
    }

    /** From the result document (null when the CLI wrote none) and the exit status of its sh. */
    @NonCPS
    static CliResult of(Map document, int status) {
        if (document == null) {
            return new CliResult(false, status, null,
                    'the shipline CLI wrote no result document; see its output above')
        }
        if (status == 0 && document.ok == true) {
            return new CliResult(true, 0, new LinkedHashMap(document.result as Map ?: [:]), null)
        }
        String message = (document.error instanceof Map ? document.error.message : null) ?:
                'the shipline CLI failed without a message; see its output above'
        Map error = document.error instanceof Map ? new LinkedHashMap(document.error as Map) : null
        return new CliResult(false, status, null, message, error)
    }
}
