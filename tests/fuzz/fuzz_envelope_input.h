/*
 * fuzz_envelope_input.h - how fuzz_envelope reads its input as one Kafka
 * record (headers and value), shared with the seed writer:
 *
 *   input  := flags header* 0xff value
 *   flags  := 1 byte; bit 0 set: the record has no header list at all
 *   header := selector (1 byte) length (1 byte) bytes[length]
 *             selector < FE_N_NAMES names fe_names[selector]; any other
 *             (but 0xff) names "x-<selector>"
 *
 * Input that ends early is a record with what was read so far.
 */
#ifndef FUZZ_ENVELOPE_INPUT_H
#define FUZZ_ENVELOPE_INPUT_H

static const char *const fe_names[] = {
    "ce_specversion", "ce_id",        "ce_type",          "ce_source",
    "ce_time",        "content-type", "ce_correlationid", "ce_causationid",
};
#define FE_N_NAMES (sizeof fe_names / sizeof *fe_names)
#define FE_END     0xff

#endif
