//! `coercive bench grains`: structures generated per second.
