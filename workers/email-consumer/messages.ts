/** The queue message types live in core (core produces them); the consumer reads them from here. */
export * from "../core/email-messages";
