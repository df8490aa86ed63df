/**
 * A lost agent in PipelineHarness (Jenkins: FlowInterruptedException with an agent-offline cause, or
 * ChannelClosedException): what retry's agent() condition matches.
 */
class AgentLost extends RuntimeException {
    AgentLost(String message) {
        super(message)
    }
}
