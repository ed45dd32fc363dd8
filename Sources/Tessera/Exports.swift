// `import Tessera` is all an operator needs to write hooks and serve with them: the domain
// types and hook protocols come along.
@_exported import TesseraCore
