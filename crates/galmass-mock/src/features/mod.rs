//! Summary statistics of a galaxy projection (chu2024 Table 1). (being written)
