from digest.launch import main

main()
