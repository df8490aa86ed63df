/** A block the controller could not resume after a restart: what retry's nonresumable() condition matches. */
class NotResumable extends RuntimeException {
    NotResumable(String message) {
        super(message)
    }
}
