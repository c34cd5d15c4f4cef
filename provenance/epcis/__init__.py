"""EPCIS 2.0: import supply-chain events onto the chain, export the chain as EPCIS.

- `hashing`: the GS1 event hash (reference implementation, offline) that anchors each event;
- `document`: reading EPCISDocument / EPCISQueryDocument files (JSON-LD), safely;
- `mapping`: the design table in code, both ways (EPCIS event ⇄ on-chain record);
- `store`: the content-addressed local store of full event JSON, keyed by the event hash;
- `importer`: plan (record or refuse, with the reason, per event) → bulk transactions;
- `export`: a streaming EPCISDocument writer over the registry's event log;
- `query`: the EPCIS query logic (filters, paging) for the REST binding.
"""
