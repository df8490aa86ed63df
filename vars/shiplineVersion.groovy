/**
 * shiplineVersion(): the version of this shipline library, read from the same file the Python
 * package is built from (resources/io/shipline/VERSION), so library and CLI can never disagree.
 */
String call() {
    return libraryResource('io/shipline/VERSION').trim()
}
