"""The ledgers as imported: reading and recognising files (importer), the field contract (schema),
cell grammars (parsing), the Parquet store and its DuckDB view (store), links between rows that name
no ref (links), and one ledger row as shown (rows)."""
