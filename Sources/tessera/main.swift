import Tessera

await TesseraCommand.runMain()
