"""Files: their types and content checks, the staged writer, the multipart parser and the streamed upload."""
