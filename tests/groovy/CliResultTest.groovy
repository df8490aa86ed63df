import io.shipline.CliResult
import org.junit.Test

import static org.junit.Assert.assertEquals

/** CliResult: success needs both the shell's exit status 0 and the document's ok; the message is the CLI's. */
class CliResultTest {
    static List describe(CliResult result) {
        return [result.ok, result.exitCode, result.value, result.message]
    }

    @Test
    void successIsStatusZeroAndAnOkDocument() {
        Map document = PipelineHarness.document('publish', 0, [image: 'x'])
        assertEquals([true, 0, [image: 'x'], null], describe(CliResult.of(document, 0)))
    }

    @Test
    void anOkDocumentWithANonZeroStatusIsAFailure() {
        Map document = PipelineHarness.document('publish', 0, [image: 'x'])
        assertEquals([false, 137, null, 'the shipline CLI failed without a message; see its output above'],
                describe(CliResult.of(document, 137)))
    }

    @Test
    void aFailedDocumentWithStatusZeroIsAFailureWithItsMessage() {
        Map document = PipelineHarness.document('publish', 1, null, 'push refused')
        assertEquals([false, 0, null, 'push refused'], describe(CliResult.of(document, 0)))
    }

    @Test
    void aNullResultIsAnEmptyMap() {
        assertEquals([true, 0, [:], null], describe(CliResult.of(PipelineHarness.document('x', 0, null), 0)))
    }

    @Test
    void noDocumentIsAFailureThatPointsAtTheLog() {
        assertEquals([false, 2, null, 'the shipline CLI wrote no result document; see its output above'],
                describe(CliResult.of(null, 2)))
    }
}
