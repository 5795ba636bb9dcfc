//! Log stream decoding (in progress).
