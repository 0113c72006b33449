from aios_records.commands import main

main()
