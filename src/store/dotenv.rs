//! dotenv store (being written).
