from seqkit.cli import main

main()
