from cauldrons.cli import main

main()
