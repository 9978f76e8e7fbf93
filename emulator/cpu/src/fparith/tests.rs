//! Hand-checked vectors from the ARMv7-M ARM pseudocode (filled in below).
