"""What the signing service reaches outside itself: the seal token (PKCS#11), the network (documents, TSA, CRLs), and the sealer built on them."""
