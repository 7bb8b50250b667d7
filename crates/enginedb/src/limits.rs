//! The limits every adapter has alike (DESIGN §3). The core enforces them before anything
//! reaches an adapter: at the limit accepted, one over refused with `LimitExceeded`.

/// Largest encoded key, in bytes.
pub const MAX_KEY_BYTES: usize = 2_048;
/// Largest `Bytes` value, in bytes.
pub const MAX_VALUE_BYTES: usize = 512 * 1024;
/// Largest `Bytes` payload of a queue message: a message's stored value adds its attempts
/// and a tag (5 bytes) to its payload.
pub const MAX_QUEUE_PAYLOAD_BYTES: usize = MAX_VALUE_BYTES - 5;
/// Most ops in one atomic unit.
pub const MAX_OPS_PER_UNIT: usize = 1_000;
/// Most bytes in one atomic unit, as counted by [`crate::port::unit_size`]: encoded keys and
/// bounds, plus values (8 bytes for a counter or an operand).
pub const MAX_UNIT_BYTES: usize = 8 * 1024 * 1024;
/// Most entries in one `list` page.
pub const MAX_LIST_LIMIT: usize = 1_000;
/// Most keys in one `get_many`.
pub const MAX_GET_MANY: usize = 1_000;

/// The limits an adapter enforces; the same values for every adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// See [`MAX_KEY_BYTES`].
    pub key_bytes: usize,
    /// See [`MAX_VALUE_BYTES`].
    pub value_bytes: usize,
    /// See [`MAX_OPS_PER_UNIT`].
    pub ops_per_unit: usize,
    /// See [`MAX_UNIT_BYTES`].
    pub unit_bytes: usize,
    /// See [`MAX_LIST_LIMIT`].
    pub list_limit: usize,
    /// See [`MAX_GET_MANY`].
    pub get_many: usize,
}

impl Limits {
    /// The one set of limits of DESIGN §3.
    pub const STANDARD: Limits = Limits {
        key_bytes: MAX_KEY_BYTES,
        value_bytes: MAX_VALUE_BYTES,
        ops_per_unit: MAX_OPS_PER_UNIT,
        unit_bytes: MAX_UNIT_BYTES,
        list_limit: MAX_LIST_LIMIT,
        get_many: MAX_GET_MANY,
    };
}

/// Longest namespace name.
pub const MAX_NAMESPACE_CHARS: usize = 48;
